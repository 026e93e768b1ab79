import { describe, expect, it } from 'vitest'
import { isServiceError } from '../../../src/domain/errors.ts'
import { composeMessage } from '../../../src/domain/mime/compose.ts'
import {
  decodeEncodedWords,
  fixedContext,
  headerBlock,
  headerFields,
  headerValue,
  latin1,
  simpleMail,
} from './support.ts'

const compose = (fields: Parameters<typeof simpleMail>[0] = {}) =>
  latin1(composeMessage(simpleMail(fields), fixedContext()))
const bytes = (text: string) => new TextEncoder().encode(text)

function expectWellFormed(message: string): void {
  expect(message.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/)
  expect(message).toMatch(/^[\x00-\x7f]*$/)
  for (const line of message.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998)
  for (const line of headerBlock(message).split('\r\n')) expect(line.length).toBeLessThanOrEqual(76)
}

/** The Content-Type of every part, outermost first, with the boundaries left out. */
function contentTypes(message: string): string[] {
  const types = message.match(/^Content-Type: [^;\r\n]+/gm) ?? []
  return types.map((type) => type.slice('Content-Type: '.length))
}

describe('composeMessage headers', () => {
  it('writes the headers in order, Bcc included, then MIME-Version and the extras', () => {
    const message = compose({
      from: { name: 'Ann Example', address: 'ann@example.com' },
      to: [{ address: 'bob@example.com' }, { name: 'Carol', address: 'carol@example.com' }],
      cc: [{ address: 'dan@example.com' }],
      bcc: [{ address: 'hidden@example.com' }],
      replyTo: [{ address: 'desk@example.com' }],
      subject: 'Quarterly report',
      inReplyTo: '<orig@mail.example>',
      references: ['<a@mail.example>', '<orig@mail.example>'],
      headers: [
        ['X-Campaign', 'spring'],
        ['List-Unsubscribe', '<mailto:u@example.com>'],
      ],
    })
    expectWellFormed(message)
    expect(headerFields(headerBlock(message))).toEqual([
      ['From', 'Ann Example <ann@example.com>'],
      ['To', 'bob@example.com, Carol <carol@example.com>'],
      ['Cc', 'dan@example.com'],
      ['Bcc', 'hidden@example.com'],
      ['Reply-To', 'desk@example.com'],
      ['Subject', 'Quarterly report'],
      ['Date', 'Tue, 01 Jul 2025 09:05:03 +0000'],
      ['Message-ID', '<fixed.id@example.com>'],
      ['In-Reply-To', '<orig@mail.example>'],
      ['References', '<a@mail.example> <orig@mail.example>'],
      ['MIME-Version', '1.0'],
      ['X-Campaign', 'spring'],
      ['List-Unsubscribe', '<mailto:u@example.com>'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Transfer-Encoding', '7bit'],
    ])
  })

  it('leaves out empty address fields and threading headers', () => {
    const names = headerFields(headerBlock(compose({ to: [], bcc: [{ address: 'b@example.com' }] }))).map(
      ([name]) => name,
    )
    expect(names).toEqual([
      'From',
      'Bcc',
      'Subject',
      'Date',
      'Message-ID',
      'MIME-Version',
      'Content-Type',
      'Content-Transfer-Encoding',
    ])
  })

  it('writes the Date in UTC', () => {
    const context = { ...fixedContext(), date: new Date('2024-02-29T23:59:59-05:00') }
    expect(latin1(composeMessage(simpleMail(), context))).toContain(
      'Date: Fri, 01 Mar 2024 04:59:59 +0000\r\n',
    )
  })

  it('encodes a non-ASCII subject as RFC 2047 words', () => {
    const subject = 'Réunion 🎉 — ordre du jour'
    const message = compose({ subject })
    expectWellFormed(message)
    const value = headerValue(headerBlock(message), 'Subject')!
    expect(value).toMatch(/^=\?utf-8\?[BQ]\?/)
    expect(decodeEncodedWords(value)).toBe(subject)
  })

  it('encodes a non-ASCII display name and quotes an ASCII one with specials', () => {
    const message = compose({
      to: [
        { name: 'Zoë Ünïcode', address: 'zoe@example.com' },
        { name: 'Doe, John "JD"', address: 'john@example.com' },
        { name: 'Plain Name', address: 'plain@example.com' },
      ],
    })
    expectWellFormed(message)
    const to = headerValue(headerBlock(message), 'To')!
    expect(to).toMatch(/^=\?utf-8\?[BQ]\?\S+\?= <zoe@example.com>, /)
    expect(to).toContain('"Doe, John \\"JD\\"" <john@example.com>')
    expect(to).toContain('Plain Name <plain@example.com>')
    expect(decodeEncodedWords(to.split(' <')[0]!)).toBe('Zoë Ünïcode')
  })

  it('folds before a whole encoded-word rather than cut a name that fits one', () => {
    const zoe = { name: 'Zoë “curly” Åström', address: 'z@example.com' }
    const message = compose({ to: [{ name: 'Ann Example', address: 'ann.example@example.com' }, zoe] })
    expectWellFormed(message)
    const raw = headerBlock(message)
    const words = raw.match(/=\?utf-8\?[BQ]\?[^?]*\?=/g)!
    expect(words).toHaveLength(1)
    expect(raw).toContain(`\r\n ${words[0]} <z@example.com>`)
    expect(decodeEncodedWords(words[0]!)).toBe(zoe.name)
  })

  it('cuts a name too long for one encoded-word at a space, or else between graphemes', () => {
    const spaced = '山田 太郎 '.repeat(8).trim()
    const joined = '👩‍👩‍👧‍👦🏳️‍🌈e\u0301'.repeat(6)
    const message = compose({
      to: [
        { name: spaced, address: 'taro@example.jp' },
        { name: joined, address: 'family@example.com' },
      ],
    })
    expectWellFormed(message)
    const to = headerValue(headerBlock(message), 'To')!
    const [first, second] = to.split(', ')
    const spacedWords = first!.match(/=\?utf-8\?[BQ]\?[^?]*\?=/g)!
    expect(spacedWords.length).toBeGreaterThan(1)
    for (const word of spacedWords.slice(1)) expect(decodeEncodedWords(word)).toMatch(/^ /)
    const joinedWords = second!.match(/=\?utf-8\?[BQ]\?[^?]*\?=/g)!
    expect(joinedWords.length).toBeGreaterThan(1)
    for (const word of joinedWords) expect(decodeEncodedWords(word)).toMatch(/^(👩‍👩‍👧‍👦|🏳️‍🌈|e\u0301)+$/u)
    expect(decodeEncodedWords(first!.split(' <')[0]!)).toBe(spaced)
    expect(decodeEncodedWords(second!.split(' <')[0]!)).toBe(joined)
  })

  it('writes an IDN domain in its ASCII form', () => {
    const message = compose({ to: [{ address: 'info@bücher.example' }] })
    expect(headerValue(headerBlock(message), 'To')).toBe('info@xn--bcher-kva.example')
  })

  it('folds a long recipient list at 76 characters between addresses', () => {
    const to = Array.from({ length: 30 }, (_, index) => ({
      name: `Person ${index}`,
      address: `p${index}@example.com`,
    }))
    const message = compose({ to })
    expectWellFormed(message)
    expect(headerValue(headerBlock(message), 'To')).toBe(
      to.map((mailbox) => `${mailbox.name} <${mailbox.address}>`).join(', '),
    )
  })

  it('encodes an extra header value that is not ASCII', () => {
    const message = compose({ headers: [['X-Note', 'für dich']] })
    expect(decodeEncodedWords(headerValue(headerBlock(message), 'X-Note')!)).toBe('für dich')
  })

  it('refuses a Message-ID or a boundary that would break the message', () => {
    const check = (run: () => unknown) => {
      try {
        run()
        expect.unreachable()
      } catch (error) {
        expect(isServiceError(error) && error.code).toBe('INTERNAL')
      }
    }
    check(() => composeMessage(simpleMail(), { ...fixedContext(), messageId: '<a@b>\r\nBcc: x@y.z' }))
    check(() =>
      composeMessage(simpleMail({ html: '<p>x</p>' }), { ...fixedContext(), boundary: () => 'a\r\nb' }),
    )
  })
})

describe('composeMessage structure', () => {
  it('sends a lone text body as a single part', () => {
    expect(contentTypes(compose())).toEqual(['text/plain'])
  })

  it('sends a lone html body as a single part', () => {
    const { text: _, ...mail } = simpleMail({ html: '<p>Hi</p>' })
    expect(contentTypes(latin1(composeMessage(mail, fixedContext())))).toEqual(['text/html'])
  })

  it('puts text and html in multipart/alternative, text first', () => {
    expect(contentTypes(compose({ html: '<p>Hi</p>' }))).toEqual([
      'multipart/alternative',
      'text/plain',
      'text/html',
    ])
  })

  it('wraps inline images in multipart/related and attachments in multipart/mixed', () => {
    const message = compose({
      html: '<img src="cid:logo@example">',
      attachments: [
        { filename: 'report.pdf', contentType: 'application/pdf', content: bytes('%PDF') },
        { filename: 'logo.png', contentType: 'image/png', content: bytes('PNG'), contentId: 'logo@example' },
      ],
    })
    expectWellFormed(message)
    expect(contentTypes(message)).toEqual([
      'multipart/mixed',
      'multipart/related',
      'multipart/alternative',
      'text/plain',
      'text/html',
      'image/png',
      'application/pdf',
    ])
    expect(message).toContain(
      'Content-Disposition: inline; filename="logo.png"\r\nContent-ID: <logo@example>\r\n',
    )
    expect(message).toContain('Content-Disposition: attachment; filename="report.pdf"\r\n')
    expect(message).toMatch(/--=_boundary_1--\r\n$/)
  })

  it('attaches a part with a Content-ID normally when there is no html', () => {
    const message = compose({
      attachments: [{ filename: 'a.png', contentType: 'image/png', content: bytes('x'), contentId: 'a@x' }],
    })
    expect(contentTypes(message)).toEqual(['multipart/mixed', 'text/plain', 'image/png'])
    expect(message).toContain('Content-Disposition: attachment; filename="a.png"')
  })

  it('asks for one boundary per multipart, each delimiting its parts', () => {
    const boundaries: string[] = []
    const context = { ...fixedContext(), boundary: () => `b${boundaries.push('x')}` }
    const message = latin1(
      composeMessage(
        simpleMail({
          html: '<p/>',
          attachments: [{ filename: 'a', contentType: 'a/b', content: bytes('') }],
        }),
        context,
      ),
    )
    expect(boundaries).toHaveLength(2)
    expect(message.match(/^--b1(--)?\r$/gm)).toEqual(['--b1\r', '--b1\r', '--b1--\r'])
    expect(message.match(/^--b2(--)?\r$/gm)).toEqual(['--b2\r', '--b2\r', '--b2--\r'])
  })
})

describe('composeMessage bodies', () => {
  const bodyOf = (message: string) => message.slice(message.indexOf('\r\n\r\n') + 4)
  const encodingOf = (message: string) => headerValue(headerBlock(message), 'Content-Transfer-Encoding')

  it('sends short-lined ASCII as 7bit with CRLF line breaks', () => {
    const message = compose({ text: 'Hello\nWorld\r\nBye\r' })
    expect(encodingOf(message)).toBe('7bit')
    expect(bodyOf(message)).toBe('Hello\r\nWorld\r\nBye\r\n')
  })

  it('sends Latin text with accents as quoted-printable', () => {
    const message = compose({ text: 'Grüße aus Köln, bis bald' })
    expect(encodingOf(message)).toBe('quoted-printable')
    expect(bodyOf(message)).toBe('Gr=C3=BC=C3=9Fe aus K=C3=B6ln, bis bald')
  })

  it('sends ASCII with long lines or trailing spaces as quoted-printable', () => {
    expect(encodingOf(compose({ text: 'x'.repeat(200) }))).toBe('quoted-printable')
    expect(encodingOf(compose({ text: 'trailing \nspace' }))).toBe('quoted-printable')
  })

  it('sends mostly non-Latin text as base64, which is shorter', () => {
    const text = 'Привет! Это письмо написано по-русски, и его больше, чем латиницы.'
    const message = compose({ text })
    expect(encodingOf(message)).toBe('base64')
    expect(new TextDecoder().decode(Uint8Array.from(atob(bodyOf(message)), (c) => c.charCodeAt(0)))).toBe(
      text,
    )
  })

  it('writes attachments as base64 in lines of 76', () => {
    const content = Uint8Array.from({ length: 1000 }, (_, index) => index % 256)
    const message = compose({
      attachments: [{ filename: 'a.bin', contentType: 'application/octet-stream', content }],
    })
    expectWellFormed(message)
    const part = message.slice(message.indexOf('Content-Disposition: attachment'))
    const lines = part
      .slice(part.indexOf('\r\n\r\n') + 4)
      .split('\r\n--')[0]!
      .split('\r\n')
    expect(lines.slice(0, -1).every((line) => line.length === 76)).toBe(true)
    expect(Uint8Array.from(atob(lines.join('')), (c) => c.charCodeAt(0))).toEqual(content)
  })

  it('names a non-ASCII file with RFC 2231 alone in Content-Disposition and RFC 2047 in Content-Type', () => {
    const message = compose({
      attachments: [
        { filename: 'Übersicht – März 2026.pdf', contentType: 'application/pdf', content: bytes('x') },
      ],
    })
    expectWellFormed(message)
    expect(message).toContain(
      'Content-Type: application/pdf;\r\n name="=?utf-8?B?w5xiZXJzaWNodCDigJMgTcOkcnogMjAyNi5wZGY=?="\r\n',
    )
    expect(message).toContain(
      "Content-Disposition: attachment;\r\n filename*=utf-8''%C3%9Cbersicht%20%E2%80%93%20M%C3%A4rz%202026.pdf\r\n",
    )
    expect(message).not.toMatch(/filename="/)
  })

  it('cuts a long non-ASCII name into encoded-words and RFC 2231 sections of whole characters', () => {
    const filename = `${'報告書'.repeat(12)}📊.pdf`
    const message = compose({
      attachments: [{ filename, contentType: 'application/pdf', content: bytes('x') }],
    })
    expectWellFormed(message)
    const part = message.slice(message.indexOf('Content-Type: application/pdf'))
    const type = headerValue(part, 'Content-Type')!
    const words = type.match(/=\?utf-8\?[BQ]\?[^?]*\?=/g)!
    expect(words.length).toBeGreaterThan(1)
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75)
    expect(decodeEncodedWords(type.slice(type.indexOf('"') + 1, -1))).toBe(filename)
    const sections = headerValue(part, 'Content-Disposition')!.split('; ').slice(1)
    expect(sections.length).toBeGreaterThan(1)
    sections.forEach((section, index) => {
      expect(section.startsWith(`filename*${index}*=`)).toBe(true)
    })
    // Each section decodes on its own: no character is cut between two.
    const decoded = sections.map((section) => decodeURIComponent(section.replace(/^[^=]+=(utf-8'')?/, '')))
    expect(decoded.join('')).toBe(filename)
  })

  it('keeps an ASCII name plain, continued over quoted sections when long', () => {
    const filename = `${'quarterly report '.repeat(6)}"final".pdf`
    const message = compose({
      attachments: [
        { filename: 'report.pdf', contentType: 'application/pdf', content: bytes('x') },
        { filename, contentType: 'application/pdf', content: bytes('x') },
      ],
    })
    expectWellFormed(message)
    expect(message).toContain('Content-Type: application/pdf; name="report.pdf"\r\n')
    expect(message).toContain('Content-Disposition: attachment; filename="report.pdf"\r\n')
    expect(message).toContain(`name="${filename.replace(/"/g, '\\"')}"\r\n`)
    expect(message).toContain('Content-Disposition: attachment;\r\n filename*0="quarterly report')
    expect(message).toMatch(/ filename\*1="[^\r]*\\"final\\"\.pdf"\r\n/)
  })

  it('keeps every line of a message with long non-ASCII names within limits', () => {
    const message = compose({
      from: { name: 'Ä'.repeat(300), address: 'a@example.com' },
      to: [{ name: 'x'.repeat(300), address: 'b@example.com' }],
      subject: '€'.repeat(998),
      attachments: [{ filename: `${'ö'.repeat(120)}.txt`, contentType: 'text/plain', content: bytes('x') }],
    })
    expectWellFormed(message)
  })
})
