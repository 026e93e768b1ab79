import type { Email } from 'postal-mime'
import { describe, expect, it } from 'vitest'
import type { MailInput } from '../../../src/domain/mail/input.ts'
import { toMail } from '../../../src/domain/mail/to-mail.ts'
import { encodeBase64 } from '../../../src/domain/mime/base64.ts'
import { asParsed, decodeEncodedWords, normalizeText, parsedMailboxes, roundTrip } from './support.ts'

function pseudoRandomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length)
  let state = 99
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0
    bytes[i] = state >>> 24
  }
  return bytes
}

const defaultFrom = { address: 'default@example.com' }

async function expectRoundTrip(input: MailInput): Promise<Email> {
  const mail = toMail(input, { defaultFrom })
  const parsed = await roundTrip(mail)
  expect(parsedMailboxes(parsed.from)).toEqual([asParsed(mail.from)])
  expect(parsedMailboxes(parsed.to)).toEqual(mail.to.map(asParsed))
  expect(parsedMailboxes(parsed.cc)).toEqual(mail.cc.map(asParsed))
  expect(parsedMailboxes(parsed.bcc)).toEqual(mail.bcc.map(asParsed))
  expect(parsedMailboxes(parsed.replyTo)).toEqual(mail.replyTo.map(asParsed))
  expect((parsed.subject ?? '').trim()).toBe(mail.subject.trim())
  expect(normalizeText(parsed.text)).toBe(normalizeText(mail.text))
  expect(normalizeText(parsed.html)).toBe(normalizeText(mail.html))
  expect(parsed.messageId).toBe('<fixed.id@example.com>')
  expect(parsed.inReplyTo).toBe(mail.inReplyTo)
  expect(parsed.references).toBe(mail.references.length > 0 ? mail.references.join(' ') : undefined)
  for (const [name, value] of mail.headers) {
    const header = parsed.headers.find((candidate) => candidate.key === name.toLowerCase())
    // postal-mime leaves extra headers raw (unfolded, not decoded).
    expect(decodeEncodedWords(header?.value ?? '')).toBe(value)
  }
  const attachments = parsed.attachments.map((attachment) => ({
    filename: attachment.filename,
    contentType: attachment.mimeType,
    content: new Uint8Array(attachment.content as ArrayBuffer),
    contentId: attachment.contentId,
  }))
  const expected = mail.attachments.map((attachment) => ({
    filename: attachment.filename,
    contentType: attachment.contentType.split(';')[0],
    content: attachment.content,
    contentId: attachment.contentId === undefined ? undefined : `<${attachment.contentId}>`,
  }))
  const byName = (a: { filename: string | null }, b: { filename: string | null }) =>
    (a.filename ?? '').localeCompare(b.filename ?? '')
  expect(attachments.sort(byName)).toEqual(expected.sort(byName))
  return parsed
}

describe('a composed message parses back to its input (postal-mime)', () => {
  it('with every field set', async () => {
    const parsed = await expectRoundTrip({
      from: '"Example, Ann" <ann@example.com>',
      to: ['Zoë Ünïcode <zoe@example.com>', 'bob@example.com, "Quote \\"me\\" \\\\ now" <q@example.org>'],
      cc: 'Carol Q. Public <carol@bücher.example>',
      bcc: ['hidden@example.com', '山田 太郎 <taro@example.jp>'],
      replyTo: 'Desk (Sales) <desk@example.com>',
      subject: 'Réunion 🎉 — « ordre du jour » et 日本語',
      text: 'Bonjour,\nVoici le compte rendu. 🎉\n\n-- \nAnn',
      html: '<p>Bonjour, <img src="cid:logo@example.com"></p>\n<p>€ ünïcödé</p>',
      attachments: [
        { filename: 'compte rendu été.pdf', content: encodeBase64(pseudoRandomBytes(3000)) },
        {
          filename: 'logo.png',
          content: encodeBase64(pseudoRandomBytes(500)),
          contentId: 'logo@example.com',
        },
        { filename: '報告書 2025.csv', content: 'YSxiLGMK', contentType: 'text/csv' },
      ],
      headers: {
        'X-Campaign': 'spring 2025',
        'X-Note': 'für dich 🎁',
        'List-Unsubscribe': '<mailto:u@example.com>',
      },
      inReplyTo: 'orig.123@mail.example.com',
      references: ['<root@mail.example.com>', 'orig.123@mail.example.com'],
    })
    expect(parsed.attachments.find((attachment) => attachment.filename === 'logo.png')).toMatchObject({
      disposition: 'inline',
      related: true,
    })
  })

  it('with long non-ASCII subject, names and filename that fold over many lines', async () => {
    await expectRoundTrip({
      from: `${'Émilie '.repeat(20).trim()} <emilie@example.com>`,
      to: Array.from({ length: 12 }, (_, index) => `Ünïcode Pérson ${index} <p${index}@example.com>`),
      subject: `${'Ответ на письмо 🎉 '.repeat(20).trim()}`,
      text: 'x',
      attachments: [{ filename: `${'Jahresübersicht '.repeat(8).trim()}.pdf`, content: 'AAEC' }],
    })
  })

  it('with an ASCII subject of long words and unusual spacing', async () => {
    await expectRoundTrip({
      to: 'a@example.com',
      subject: `Re:  see https://example.com/${'p'.repeat(100)}  and =?utf-8?Q?not_a_word?= \tok`,
      text: 'y',
    })
  })

  it('with bodies in each transfer encoding', async () => {
    await expectRoundTrip({
      to: 'a@example.com',
      subject: 'Bodies',
      text: `Привет! ${'Это длинная строка. '.repeat(30)}\n\nВторая строка`,
      html: `<p>${'long ascii line with = signs and trailing spaces   \n'.repeat(5)}${'z'.repeat(300)}</p>`,
    })
    await expectRoundTrip({ to: 'a@example.com', subject: '7bit', text: 'Short\nlines\r\nonly\rhere' })
  })

  it('with only an html body and inline images', async () => {
    await expectRoundTrip({
      to: 'a@example.com',
      subject: 'Inline',
      html: '<img src="cid:a@x"><img src="cid:b@x">',
      attachments: [
        { filename: 'a.gif', content: 'R0lGODlhAQABAAAAACw=', contentId: 'a@x' },
        { filename: 'b.png', content: 'iVBORw0KGgo=', contentId: '<b@x>' },
      ],
    })
  })

  it('with a large attachment, byte for byte', async () => {
    await expectRoundTrip({
      to: 'a@example.com',
      subject: 'Archive',
      text: 'Attached.',
      attachments: [{ filename: 'archive.zip', content: encodeBase64(pseudoRandomBytes(2_000_003)) }],
    })
  })
})
