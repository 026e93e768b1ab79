import { describe, expect, it } from 'vitest'
import { encodeTextBody } from '../../../src/domain/mime/text-body.ts'
import { decodeQuotedPrintable, latin1 } from './support.ts'

function decoded(text: string): string {
  const { transferEncoding, body } = encodeTextBody(text)
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array)
    return transferEncoding === 'quoted-printable' ? decodeQuotedPrintable(latin1(body)) : latin1(body)
  return new TextDecoder().decode(body.base64)
}

describe('encodeTextBody', () => {
  it.each([
    ['short ASCII lines', '7bit', 'Hello,\nsee you = soon\n'],
    ['an ASCII line over 76 characters', 'quoted-printable', `${'x'.repeat(77)}\n`],
    ['a space ending a line', 'quoted-printable', 'Hello \nthere'],
    ['a control character', 'quoted-printable', 'bell\u0007'],
    ['Latin text with accents', 'quoted-printable', 'Grüße aus Köln, schöne Grüße an alle'],
    [
      'English with an emoji',
      'quoted-printable',
      `Thanks for the update, see you at the meeting tomorrow 🎉`,
    ],
    ['Cyrillic text', 'base64', 'Привет! Это письмо написано по-русски.'],
    ['Japanese text', 'base64', '日本語のメールの本文です。よろしくお願いします。'],
    ['a third of the characters accented', 'base64', 'àbcéfgìjkòmnùpqàstéwxìzò'.repeat(10)],
  ])('sends %s as %s', (_, encoding, text) => {
    expect(encodeTextBody(text).transferEncoding).toBe(encoding)
    expect(decoded(text)).toBe(text.replace(/\r\n|\r|\n/g, '\r\n'))
  })

  it('makes line breaks CRLF in every encoding', () => {
    for (const text of ['a\nb\rc', 'é\nb\rc', 'Ж\nЖ\rЖЖЖЖЖЖЖЖЖЖ'])
      expect(decoded(text)).toBe(text.replace(/\r|\n/g, '\r\n'))
  })
})
