import { describe, expect, it } from 'vitest'
import { encodeQuotedPrintable } from '../../../src/domain/mime/quoted-printable.ts'
import { decodeQuotedPrintable, latin1 } from './support.ts'

const qp = (text: string) => latin1(encodeQuotedPrintable(new TextEncoder().encode(text)))

describe('encodeQuotedPrintable', () => {
  it('keeps printable ASCII and escapes = and non-ASCII bytes', () => {
    expect(qp('a=b café')).toBe('a=3Db caf=C3=A9')
  })

  it('makes every line break CRLF', () => {
    expect(qp('a\nb\r\nc\rd')).toBe('a\r\nb\r\nc\r\nd')
  })

  it('escapes whitespace before a line break and at the end', () => {
    expect(qp('a \nb\t\r\nc ')).toBe('a=20\r\nb=09\r\nc=20')
    expect(qp('a  b')).toBe('a  b')
  })

  it('escapes control characters', () => {
    expect(qp('a\u0000b\u007f')).toBe('a=00b=7F')
  })

  it('breaks long lines softly at 76 characters without cutting an escape', () => {
    const text = `${'x'.repeat(74)}ééé${'y'.repeat(200)}`
    const encoded = qp(text)
    for (const line of encoded.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76)
    expect(encoded).toMatch(/^x{74}=\r\n=C3=A9/)
    expect(decodeQuotedPrintable(encoded)).toBe(text)
  })

  it('decodes back to the text with CRLF line breaks', () => {
    const text = 'Grüße aus Köln 🎉\nZeile  zwei \n\n= Ende ='
    expect(decodeQuotedPrintable(qp(text))).toBe(text.replace(/\n/g, '\r\n'))
  })
})
