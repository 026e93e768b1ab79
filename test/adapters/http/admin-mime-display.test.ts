import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import { describe, expect, it } from 'vitest'
import { inlineContentIds, parseForDisplay } from '../../../src/adapters/http/sandbox-pages/mime-parse.ts'

const PNG = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13])
const encoder = new TextEncoder()

async function nodemailerMessage(options: Record<string, unknown>): Promise<Uint8Array> {
  const node = new MailComposer({
    from: 'Support <support@example.com>',
    to: 'jane@example.com',
    messageId: '<display.1@example.com>',
    date: new Date('2026-01-02T03:04:05Z'),
    ...options,
  }).compile()
  return node.build()
}

const field = (headers: Array<[string, string]>, name: string) =>
  headers.find(([key]) => key.toLowerCase() === name)?.[1]

describe('parseForDisplay (sandbox mailbox)', () => {
  it('decodes an RFC 2047 subject, the quoted-printable text and the HTML of another composer', async () => {
    const raw = await nodemailerMessage({
      subject: 'Grüße aus Köln — 你好 📨',
      text: `Hallo Jane, ça va? ${'Ünïcödé long enough to be folded by quoted-printable. '.repeat(4)}`,
      html: '<p>Hallo <b>Jane</b> — ünïcödé</p>',
    })
    const display = parseForDisplay(raw)
    expect(field(display.headers, 'subject')).toBe('Grüße aus Köln — 你好 📨')
    expect(display.text).toContain('ça va? Ünïcödé long enough to be folded by quoted-printable. Ünïcödé')
    expect(display.html).toBe('<p>Hallo <b>Jane</b> — ünïcödé</p>')
    expect(display.attachments).toEqual([])
  })

  it('lists attachments with their RFC 2231 file names and decoded bytes', async () => {
    const pdf = encoder.encode('%PDF-1.4\n% résumé\n'.repeat(20))
    const raw = await nodemailerMessage({
      subject: 'Files',
      text: 'See attached.',
      attachments: [
        { filename: 'Résumé 2026 — a long name that needs continuations in RFC 2231.pdf', content: pdf },
        { filename: 'notes.txt', content: 'plain notes', contentType: 'text/plain' },
      ],
    })
    const display = parseForDisplay(raw)
    expect(display.text).toBe('See attached.')
    expect(display.attachments.map((a) => a.filename)).toEqual([
      'Résumé 2026 — a long name that needs continuations in RFC 2231.pdf',
      'notes.txt',
    ])
    expect(display.attachments[0]!.contentType).toBe('application/pdf')
    expect(display.attachments[0]!.bytes).toEqual(pdf)
    expect(new TextDecoder().decode(display.attachments[1]!.bytes)).toBe('plain notes')
  })

  it('turns cid: references to inline images into data: URLs and leaves other URLs alone', async () => {
    const raw = await nodemailerMessage({
      subject: 'Logo',
      html: '<img src="cid:logo@example"><img src="https://example.com/remote.png">',
      attachments: [{ filename: 'logo.png', content: PNG, cid: 'logo@example', contentType: 'image/png' }],
    })
    const display = parseForDisplay(raw)
    expect(display.attachments[0]).toMatchObject({ contentId: 'logo@example', contentType: 'image/png' })
    const html = inlineContentIds(display.html!, display.attachments)
    expect(html).toContain(`src="data:image/png;base64,${Buffer.from(PNG).toString('base64')}"`)
    expect(html).toContain('src="https://example.com/remote.png"')
  })

  it('reads a message whose filename has both a plain and an extended parameter', () => {
    const raw = encoder.encode(
      [
        'Subject: =?utf-8?B?w6k=?= =?utf-8?Q?t=C3=A9?=',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'caf=E9 soft=',
        'break',
        '--b1',
        'Content-Type: application/octet-stream',
        `Content-Disposition: attachment; filename="Resume.txt"; filename*=utf-8''R%C3%A9sum%C3%A9.txt`,
        'Content-Transfer-Encoding: base64',
        '',
        'aGkgdGhlcmU=',
        '--b1--',
        '',
      ].join('\r\n'),
    )
    const display = parseForDisplay(raw)
    expect(field(display.headers, 'subject')).toBe('été')
    expect(display.text).toBe('café softbreak')
    expect(display.attachments[0]!.filename).toBe('Résumé.txt')
    expect(new TextDecoder().decode(display.attachments[0]!.bytes)).toBe('hi there')
  })

  it('shows what it can of a malformed message instead of failing', () => {
    const raw = encoder.encode(
      'Subject: broken\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Transfer-Encoding: base64\r\n\r\n@@not base64@@\r\n',
    )
    const display = parseForDisplay(raw)
    expect(field(display.headers, 'subject')).toBe('broken')
    expect(display.attachments).toEqual([])
    expect(() => parseForDisplay(encoder.encode('no header section at all'))).not.toThrow()
  })
})
