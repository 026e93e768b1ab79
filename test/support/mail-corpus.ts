/**
 * A corpus of messages for the reader judges: fast-check arbitraries over
 * names, subjects, file names and bodies from many scripts (CJK, Arabic,
 * Hebrew, emoji with ZWJ sequences, combining marks, quotes, commas,
 * backslashes, `=?` look-alikes), attachments of 0 bytes and of random
 * (not UTF-8) bytes, lines of exactly 76 and 77 characters; and the named
 * cases of issue 10. Shared by test/domain/mime/readers.property.test.ts
 * and bench/readers.ts.
 */
import fc from 'fast-check'
import { isServiceError } from '../../src/domain/errors.ts'
import type { MailInput } from '../../src/domain/mail/input.ts'
import type { Mail } from '../../src/domain/mail/message.ts'
import { toMail } from '../../src/domain/mail/to-mail.ts'
import { encodeBase64 } from '../../src/domain/mime/base64.ts'

const PIECES = [
  // CJK, Korean, kana
  '報告書',
  '山田 太郎',
  '中文字符',
  'カタカナ',
  '한국어',
  // right to left
  'مرحبا بالعالم',
  'שלום עולם',
  'تقرير',
  // emoji, ZWJ sequences, flags, skin tones
  '📊',
  '🎉',
  '👩‍👩‍👧‍👦',
  '👨🏽‍💻',
  '🏳️‍🌈',
  '🇩🇪',
  // combining marks and precomposed letters
  'e\u0301',
  'n\u0303o',
  'Å',
  'Zoë',
  'März',
  'Ünïcödé',
  // quotes, specials, encoded-word look-alikes
  '"',
  '“curly”',
  '«»',
  "'",
  ',',
  ';',
  ':',
  '\\',
  '<>',
  '()',
  '@',
  '[x]',
  '=?',
  '?=',
  '=?utf-8?Q?fake?=',
  '=?iso-8859-1?B?QUJD?=',
  '_',
  '=',
  // plain words and spaces
  'Report',
  'Q3',
  '2026',
  'a',
  ' ',
  '  ',
  '–',
  '.',
]

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PIECES) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'grapheme', maxLength: 6 })
      .map((value) => value.replace(/[\x00-\x1f\x7f]/g, '')),
  },
)

/** A line of header text: no line breaks or controls, sometimes long. */
export const headerText = fc.oneof(
  { weight: 5, arbitrary: fc.array(piece, { maxLength: 8 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.array(piece, { minLength: 10, maxLength: 40 }).map((parts) => parts.join('')) },
)

const nonEmpty = headerText.filter((value) => value.trim() !== '')

const ADDRESSES = [
  'ann@example.com',
  'b.o+b@sub.example.org',
  'zoe@bücher.example',
  'taro@例え.jp',
  '"odd local"@example.net',
]
const address = fc.constantFrom(...ADDRESSES)

/** `"name" <address>` or a bare address. */
const mailbox = fc.oneof(
  address,
  fc.tuple(nonEmpty, address).map(([name, at]) => `"${name.replace(/["\\]/g, '\\$&')}" <${at}>`),
)
const mailboxes = fc.array(mailbox, { minLength: 1, maxLength: 3 })

const lineBreak = fc.constantFrom('\n', '\r\n', '\r')
const line = fc.oneof(
  { weight: 4, arbitrary: headerText },
  // Lines about the 76-character limit of quoted-printable and 7bit, ASCII and not.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(75, 76, 77, 78, 152, 998, 1000), fc.constantFrom('x', 'é', '=', ' ', '日'))
      .map(([length, char]) => 'y'.repeat(length - 1) + char),
  },
  // Trailing spaces and tabs, which quoted-printable must keep.
  { weight: 1, arbitrary: headerText.map((value) => `${value}  `) },
  { weight: 1, arbitrary: headerText.map((value) => `${value}\t`) },
)
const body = fc.array(fc.tuple(line, lineBreak), { maxLength: 8 }).chain((lines) =>
  fc.boolean().map((endsInBreak) => {
    const text = lines.map(([value, end]) => value + end).join('')
    return endsInBreak ? text : text.replace(/(\r\n|\r|\n)$/, '')
  }),
)

const attachmentBytes = fc.oneof(
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  // Random bytes: not UTF-8, nor text of any kind.
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 3000, maxLength: 5000 }) },
)
const FILENAME_ENDS = ['.pdf', '.xlsx', '.png', '.txt', '.csv', '', '.tar.gz']
const filename = fc
  .tuple(nonEmpty, fc.constantFrom(...FILENAME_ENDS))
  .map(([name, end]) => (name + end).slice(0, 255))
const attachment = fc.record(
  {
    filename,
    content: attachmentBytes.map(encodeBase64),
    contentType: fc.constantFrom(
      'application/pdf',
      'image/png',
      'application/octet-stream',
      'text/plain; charset=utf-8',
    ),
    contentId: fc.constantFrom('logo@example.com', 'img.1@x'),
  },
  { requiredKeys: ['filename', 'content'] },
)
// Readers take an inline text part for more body text, so inline parts stay images.
const inlineSafe = attachment.map((value) =>
  value.contentId !== undefined && (value.contentType ?? 'text/').startsWith('text/')
    ? { ...value, contentType: 'image/png' }
    : value,
)

const HEADER_NAMES = ['X-Tag', 'X-Campaign', 'Keywords', 'X-Note', 'Comments']

/** Any message the corpus holds, as a caller would send it. */
export const mailInputArbitrary: fc.Arbitrary<MailInput> = fc
  .record(
    {
      from: mailbox,
      to: mailboxes,
      cc: mailboxes,
      bcc: mailboxes,
      replyTo: mailboxes,
      subject: headerText,
      text: body,
      html: body.map((value) => `<p>${value}</p>`),
      attachments: fc.array(inlineSafe, { maxLength: 3 }),
      headers: fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerText, { maxKeys: 2 }),
    },
    { requiredKeys: ['to', 'subject'] },
  )
  .map((input) => (input.text === undefined && input.html === undefined ? { ...input, text: '' } : input))

const pdf = encodeBase64(new TextEncoder().encode('%PDF-1.7\n'))

/** The cases issue 10 names, and their neighbours. */
export const NAMED_CASES: MailInput[] = [
  {
    from: '"Zoë “curly” Åström" <z@example.com>',
    to: ['"Zoë “curly” Åström" <z@example.com>', 'bob@example.com'],
    subject: 'Übersicht – März 2026',
    text: 'Anbei.',
    attachments: [
      { filename: 'Übersicht – März 2026.pdf', content: pdf },
      { filename: '📊 Q3.xlsx', content: encodeBase64(new Uint8Array([0x50, 0x4b, 3, 4, 0xff, 0xfe])) },
      { filename: '報告書.pdf', content: pdf },
    ],
  },
  {
    to: '"山田 太郎 (営業部 第一課 東京本社 国際事業本部 海外営業統括部)" <taro@例え.jp>',
    cc: '"مرحبا بالعالم" <a@example.com>, "שלום עולם" <b@example.com>',
    subject: `${'報告書 '.repeat(30)}👩‍👩‍👧‍👦`,
    html: '<p>報告書</p>',
    attachments: [
      {
        filename: `${'Jahresbericht über die Entwicklung der Geschäftsbereiche 2025 – endgültige Fassung '.repeat(2)}.pdf`,
        content: '',
      },
      { filename: `${'long ascii name '.repeat(12)}.txt`, content: pdf, contentType: 'text/plain' },
      { filename: 'a "quoted" \\ name.png', content: pdf, contentId: 'logo@example.com' },
      { filename: '=?utf-8?Q?not_a_word?=.pdf', content: pdf },
    ],
  },
  {
    to: 'x@example.com',
    subject: '=?utf-8?Q?fake?= and a   run of spaces',
    text: `${'y'.repeat(75)}=\n${'z'.repeat(76)}\n${'w'.repeat(77)} \r\ntrailing  \rend`,
    headers: { 'X-Note': 'für dich 🎁', Keywords: '=?utf-8?B?QUJD?=' },
  },
]

/** The mail `toMail` makes of `input`, or undefined when it refuses it. */
export function acceptedMail(input: MailInput): Mail | undefined {
  try {
    return toMail(input, { defaultFrom: { address: 'default@example.com' } })
  } catch (error) {
    if (isServiceError(error) && error.code === 'BAD_REQUEST') return undefined
    throw error
  }
}

/** `count` generated inputs (after the named cases), the same for the same seed. */
export function sampleCorpus(count: number, seed: number): MailInput[] {
  return [...NAMED_CASES, ...fc.sample(mailInputArbitrary, { numRuns: count, seed })]
}
