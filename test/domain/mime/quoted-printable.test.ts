import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeQuotedPrintable } from '../../../src/domain/mime/quoted-printable.ts'
import { decodeQuotedPrintable, latin1 } from './support.ts'

const qp = (text: string, capacity?: number) =>
  latin1(encodeQuotedPrintable(new TextEncoder().encode(text), capacity))

describe('encodeQuotedPrintable', () => {
  it('keeps printable ASCII and escapes = and the UTF-8 bytes of other characters', () => {
    expect(qp('a=b café')).toBe('a=3Db caf=C3=A9')
    expect(qp('€🎉')).toBe('=E2=82=AC=F0=9F=8E=89')
  })

  it('makes every line break CRLF', () => {
    expect(qp('a\nb\r\nc\rd')).toBe('a\r\nb\r\nc\r\nd')
  })

  it('escapes whitespace before a line break and at the end', () => {
    expect(qp('a \nb\t\r\nc ')).toBe('a=20\r\nb=09\r\nc=20')
    expect(qp('a  b')).toBe('a  b')
  })

  it('breaks softly before escaping a space that ends a full line', () => {
    const encoded = qp(`${'x'.repeat(74)} \nnext`)
    expect(encoded).toBe(`${'x'.repeat(74)}=\r\n=20\r\nnext`)
    expect(qp(`${'x'.repeat(73)} \nnext`)).toBe(`${'x'.repeat(73)}=20\r\nnext`)
  })

  it('escapes control characters', () => {
    expect(qp('a\u0000b\u007f')).toBe('a=00b=7F')
  })

  it('breaks long lines softly at 76 characters, keeping a character on one line', () => {
    const text = `${'x'.repeat(70)}ééé${'y'.repeat(200)}`
    const encoded = qp(text)
    for (const line of encoded.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76)
    expect(encoded).toMatch(/^x{70}=\r\n=C3=A9/)
    expect(decodeQuotedPrintable(encoded)).toBe(text)
  })

  it('gives the same bytes when the size it was told is too small', () => {
    const text = 'Grüße 🎉 '.repeat(50)
    expect(qp(text, 1)).toBe(qp(text))
  })

  it('decodes back to any text, with CRLF line breaks, in lines of at most 76', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.constantFrom('\n', '\r\n', '\r', ' \n'),
        (text, br) => {
          const input = text.replace(/\s/g, (space) => (space === ' ' ? br : space))
          const encoded = qp(input)
          for (const line of encoded.split('\r\n')) {
            expect(line.length).toBeLessThanOrEqual(76)
            expect(line).not.toMatch(/[ \t]$/)
          }
          expect(encoded).toMatch(/^[\x21-\x7e \t\r\n]*$/)
          expect(decodeQuotedPrintable(encoded)).toBe(input.replace(/\r\n|\r|\n/g, '\r\n'))
        },
      ),
      { numRuns: 200 },
    )
  })
})
