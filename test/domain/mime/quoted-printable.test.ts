import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as native from '../../../src/domain/mime/quoted-printable.ts'
import { decodeQuotedPrintable, latin1 } from './support.ts'

type Encoder = typeof native

/** The module as loaded on a runtime without WebAssembly: the JavaScript encoder only. */
async function loadWithoutWebAssembly(): Promise<Encoder> {
  vi.stubGlobal('WebAssembly', undefined)
  vi.resetModules()
  return import('../../../src/domain/mime/quoted-printable.ts')
}

afterEach(() => {
  vi.unstubAllGlobals()
})

const utf8 = (text: string) => new TextEncoder().encode(text)

describe.each([
  ['the WebAssembly encoder', async () => native],
  ['the JavaScript encoder', loadWithoutWebAssembly],
])('encodeQuotedPrintable with %s', (_, load: () => Promise<Encoder>) => {
  const encoder = async () => {
    const module = await load()
    return (text: string, capacity?: number) => latin1(module.encodeQuotedPrintable(utf8(text), capacity))
  }

  it('keeps printable ASCII and escapes = and the UTF-8 bytes of other characters', async () => {
    const qp = await encoder()
    expect(qp('a=b café')).toBe('a=3Db caf=C3=A9')
    expect(qp('€🎉')).toBe('=E2=82=AC=F0=9F=8E=89')
  })

  it('makes every line break CRLF', async () => {
    const qp = await encoder()
    expect(qp('a\nb\r\nc\rd')).toBe('a\r\nb\r\nc\r\nd')
    expect(qp('\r')).toBe('\r\n')
  })

  it('escapes whitespace before a line break and at the end', async () => {
    const qp = await encoder()
    expect(qp('a \nb\t\r\nc ')).toBe('a=20\r\nb=09\r\nc=20')
    expect(qp('a  b')).toBe('a  b')
    expect(qp(' ')).toBe('=20')
  })

  it('breaks softly before escaping a space that ends a full line', async () => {
    const qp = await encoder()
    expect(qp(`${'x'.repeat(74)} \nnext`)).toBe(`${'x'.repeat(74)}=\r\n=20\r\nnext`)
    expect(qp(`${'x'.repeat(73)} \nnext`)).toBe(`${'x'.repeat(73)}=20\r\nnext`)
  })

  it('escapes control characters', async () => {
    const qp = await encoder()
    expect(qp('a\u0000b\u007f')).toBe('a=00b=7F')
    expect(qp('\u0080')).toBe('=C2=80')
  })

  it('breaks long lines softly at 76 characters, keeping a character on one line', async () => {
    const qp = await encoder()
    const text = `${'x'.repeat(70)}ééé${'y'.repeat(200)}`
    const encoded = qp(text)
    for (const line of encoded.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76)
    expect(encoded).toMatch(/^x{70}=\r\n=C3=A9/)
    expect(decodeQuotedPrintable(encoded)).toBe(text)
  })

  it('gives the same bytes when the size it was told is too small', async () => {
    const qp = await encoder()
    const text = 'Grüße 🎉 '.repeat(50)
    expect(qp(text, 1)).toBe(qp(text))
  })

  it('gives up only when the encoding needs more than the capacity', async () => {
    const { tryQuotedPrintable } = await load()
    const bytes = utf8('Grüße 🎉 '.repeat(50))
    const full = tryQuotedPrintable(bytes, 100_000)
    expect(full).toBeDefined()
    expect(tryQuotedPrintable(bytes, full!.length)).toEqual(full)
    expect(tryQuotedPrintable(bytes, full!.length - 1)).toBeUndefined()
    expect(tryQuotedPrintable(bytes, 10)).toBeUndefined()
  })

  it('decodes back to any text, with CRLF line breaks, in lines of at most 76', async () => {
    const qp = await encoder()
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

describe('the two quoted-printable encoders', () => {
  it('uses the WebAssembly encoder on this runtime (Node 24, Deno 2)', () => {
    expect(native.quotedPrintableEncoder()).toBe('webassembly')
  })

  /** Text made of the pieces where the rules meet: runs near the line end, breaks after blanks, multibyte characters. */
  const tricky = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          ' ',
          '\t',
          '\r',
          '\n',
          '\r\n',
          ' \n',
          '\t\r\n',
          '=',
          'é',
          '€',
          '🎉',
          '\u0000',
          '\u007f',
        ),
        fc.integer({ min: 1, max: 90 }).map((length) => 'x'.repeat(length)),
        fc.string({ unit: 'binary', maxLength: 20 }),
      ),
      { maxLength: 40 },
    )
    .map((pieces) => pieces.join(''))

  it('write the same bytes for any text', async () => {
    const javascript = await loadWithoutWebAssembly()
    expect(javascript.quotedPrintableEncoder()).toBe('javascript')
    fc.assert(
      fc.property(tricky, (text) => {
        const bytes = utf8(text)
        expect(latin1(native.encodeQuotedPrintable(bytes))).toBe(
          latin1(javascript.encodeQuotedPrintable(bytes)),
        )
      }),
      { numRuns: 2000 },
    )
  })

  it('give up at the same capacities', async () => {
    const javascript = await loadWithoutWebAssembly()
    fc.assert(
      fc.property(tricky, fc.integer({ min: 0, max: 400 }), (text, capacity) => {
        const bytes = utf8(text)
        const ours = native.tryQuotedPrintable(bytes, capacity)
        const theirs = javascript.tryQuotedPrintable(bytes, capacity)
        expect(ours === undefined ? undefined : latin1(ours)).toBe(
          theirs === undefined ? undefined : latin1(theirs),
        )
      }),
      { numRuns: 2000 },
    )
  })

  it('write the same bytes for bytes that are not UTF-8 (stray continuation bytes, truncated sequences)', async () => {
    const javascript = await loadWithoutWebAssembly()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(latin1(native.encodeQuotedPrintable(bytes))).toBe(
          latin1(javascript.encodeQuotedPrintable(bytes)),
        )
      }),
      { numRuns: 1000 },
    )
  })

  it('encode bodies over 64 KiB, beyond the WebAssembly memory, by the same rules', () => {
    const text = `${'Grüße, '.repeat(12_000)} \n`
    const encoded = latin1(native.encodeQuotedPrintable(utf8(text)))
    expect(utf8(text).length).toBeGreaterThan(64 * 1024)
    for (const line of encoded.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76)
    expect(decodeQuotedPrintable(encoded)).toBe(text.replace(/\n/g, '\r\n'))
  })
})
