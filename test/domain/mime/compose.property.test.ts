import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isServiceError } from '../../../src/domain/errors.ts'
import type { MailInput } from '../../../src/domain/mail/input.ts'
import type { Mail } from '../../../src/domain/mail/message.ts'
import { toMail } from '../../../src/domain/mail/to-mail.ts'
import { encodeBase64 } from '../../../src/domain/mime/base64.ts'
import { composeMessage } from '../../../src/domain/mime/compose.ts'
import {
  asParsed,
  fixedContext,
  headerBlock,
  headerFields,
  latin1,
  normalizeText,
  parsedMailboxes,
  roundTrip,
} from './support.ts'

const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 200)

/** Pieces that confuse a parser: quotes, specials, encoded-word look-alikes, odd spaces. */
const tricky = fc.constantFrom(
  '=?utf-8?Q?fake?=',
  '?=',
  ':',
  ';',
  ',',
  '"',
  '\\',
  '<',
  '>',
  '(',
  ')',
  '@',
  ' ',
  '  ',
  '\t',
  '🎉',
  'é',
  'Ж',
  '日本',
  '\u2028',
  '\u00a0',
  'Bcc: x@example.com',
)
/** Pieces that try to break out of a header; toMail must refuse them. */
const breaking = fc.constantFrom('\r\nBcc: evil@example.com', '\nX-Injected: 1', '\r', '\u0000', '\u001b')
const safeText = fc
  .array(
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .string({ unit: 'grapheme', maxLength: 12 })
          .map((value) => value.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '')),
      },
      { weight: 2, arbitrary: tricky },
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''))
/** Mostly acceptable text, now and then with a line break or control character. */
const text = fc.oneof(
  { weight: 40, arbitrary: safeText },
  { weight: 1, arbitrary: fc.tuple(safeText, breaking, safeText).map((parts) => parts.join('')) },
)
const longText = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: text.map((value) => value.repeat(12)) },
)

const addressSpec = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      'ann@example.com',
      'b.o+b@sub.example.org',
      'zoe@bücher.example',
      '"odd local"@example.net',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('not-an-address', 'x@', 'a@b.c\r\nBcc: e@f.g') },
)
const mailboxText = fc.oneof(
  addressSpec,
  fc.tuple(safeText, addressSpec).map(([name, address]) => `${name} <${address}>`),
  fc.tuple(text, addressSpec).map(([name, address]) => `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`),
)
const addresses = fc.oneof(
  mailboxText,
  fc.array(mailboxText, { maxLength: 3 }),
  fc.array(mailboxText, { minLength: 2, maxLength: 3 }).map((items) => items.join(', ')),
)
const headerName = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constantFrom('X-Tag', 'x-campaign', 'List-Unsubscribe', 'X-Mailer', 'Keywords'),
  },
  { weight: 1, arbitrary: fc.constantFrom('Subject', 'bcc', 'Content-Type', 'X Bad', 'X:Bad', 'X-\r\n') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }) },
)
const messageId = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom('<a.b@mail.example>', 'c@d.example', '<x+y=z@host>') },
  { weight: 1, arbitrary: fc.constantFrom('bad id', '<x@y>\r\nBcc: e@f.g', '') },
)
const attachment = fc
  .record(
    {
      filename: longText.filter((value) => value.length > 0),
      content: fc.oneof(
        { weight: 20, arbitrary: fc.uint8Array({ maxLength: 200 }).map(encodeBase64) },
        { weight: 1, arbitrary: fc.constantFrom('***', 'ab-_', 'Q') },
      ),
      contentType: fc.oneof(
        { weight: 20, arbitrary: fc.constantFrom('image/png', 'text/plain; charset=utf-8') },
        { weight: 1, arbitrary: fc.constantFrom('bad type', 'text/x\r\ny') },
      ),
      contentId: fc.oneof(
        { weight: 20, arbitrary: fc.constantFrom('logo@x', '<img.1@example>') },
        { weight: 1, arbitrary: fc.constantFrom('a b', 'c\r\nd') },
      ),
    },
    { requiredKeys: ['filename', 'content'] },
  )
  // postal-mime reads an inline text part as more body text, so inline parts stay images.
  .map((value) =>
    value.contentId !== undefined && value.contentType?.startsWith('text/')
      ? { ...value, contentType: 'image/gif' }
      : value,
  )
const mailInput: fc.Arbitrary<MailInput> = fc
  .record(
    {
      from: mailboxText,
      to: addresses,
      cc: addresses,
      bcc: addresses,
      replyTo: addresses,
      subject: longText,
      text: longText,
      html: longText.map((value) => `<p>${value}</p>`),
      attachments: fc.array(attachment, { maxLength: 2 }),
      headers: fc.dictionary(headerName, text, { maxKeys: 3 }),
      inReplyTo: messageId,
      references: fc.array(messageId, { maxLength: 3 }),
    },
    { requiredKeys: ['to', 'subject'] },
  )
  .map((input) => (input.text === undefined && input.html === undefined ? { ...input, text: '' } : input))

/** toMail's verdict: the mail, or undefined for a BAD_REQUEST refusal. */
function accepted(input: MailInput): Mail | undefined {
  try {
    return toMail(input, { defaultFrom: { address: 'default@example.com' } })
  } catch (error) {
    if (isServiceError(error) && error.code === 'BAD_REQUEST') return undefined
    throw error
  }
}

/** Inputs toMail accepts; about one generated input in five is refused and drawn again. */
const acceptedInput = mailInput.filter((input) => accepted(input) !== undefined)

function expectedHeaderNames(mail: Mail): string[] {
  const names = ['From', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']
  if (mail.to.length > 0) names.push('To')
  if (mail.cc.length > 0) names.push('Cc')
  if (mail.bcc.length > 0) names.push('Bcc')
  if (mail.replyTo.length > 0) names.push('Reply-To')
  if (mail.inReplyTo !== undefined) names.push('In-Reply-To')
  if (mail.references.length > 0) names.push('References')
  const multipart = mail.attachments.length > 0 || (mail.text !== undefined && mail.html !== undefined)
  if (!multipart) names.push('Content-Transfer-Encoding')
  names.push(...mail.headers.map(([name]) => name))
  return names.map((name) => name.toLowerCase()).sort()
}

describe('composeMessage, for any input toMail accepts', () => {
  it('writes only the header lines asked for, each once, in well-formed lines', () => {
    fc.assert(
      fc.property(acceptedInput, (input) => {
        const mail = accepted(input)
        if (mail === undefined) throw new Error('the input should have been accepted')
        const message = latin1(composeMessage(mail, fixedContext()))
        const names = headerFields(headerBlock(message)).map(([name]) => name.toLowerCase())
        expect(names.sort()).toEqual(expectedHeaderNames(mail))
        expect(message.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/)
        expect(message).toMatch(/^[\x00-\x7f]*$/)
        for (const line of message.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998)
      }),
      { numRuns: NUM_RUNS },
    )
  })

  it('parses back to its subject, addresses and bodies', async () => {
    await fc.assert(
      fc.asyncProperty(acceptedInput, async (input) => {
        const mail = accepted(input)
        if (mail === undefined) throw new Error('the input should have been accepted')
        const parsed = await roundTrip(mail)
        expect((parsed.subject ?? '').trim()).toBe(mail.subject.trim())
        expect(parsedMailboxes(parsed.from)).toEqual([asParsed(mail.from)])
        expect(parsedMailboxes(parsed.to)).toEqual(mail.to.map(asParsed))
        expect(parsedMailboxes(parsed.cc)).toEqual(mail.cc.map(asParsed))
        expect(parsedMailboxes(parsed.bcc)).toEqual(mail.bcc.map(asParsed))
        expect(parsedMailboxes(parsed.replyTo)).toEqual(mail.replyTo.map(asParsed))
        expect(normalizeText(parsed.text)).toBe(normalizeText(mail.text))
        expect(normalizeText(parsed.html)).toBe(normalizeText(mail.html))
      }),
      { numRuns: NUM_RUNS },
    )
  })
})
