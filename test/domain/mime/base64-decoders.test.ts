/**
 * The decoders the adapters and the emulator share, each with the contract
 * its callers had before they were one: strict (a cursor, a key, Gmail's
 * `raw`: `undefined` on anything doubtful) and lenient (a message shown for
 * display: never fails).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeBase64Lenient,
  decodeBase64Strict,
  encodeBase64,
  encodeBase64Url,
} from '../../../src/domain/mime/base64.ts'

const ascii = (text: string) => new TextEncoder().encode(text)
const list = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Array.from(bytes))

describe('decodeBase64Strict', () => {
  it('round-trips any bytes in each alphabet, padded or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const url = encodeBase64Url(bytes)
        const standard = encodeBase64(bytes)
        expect(list(decodeBase64Strict(url, 'base64url'))).toEqual(Array.from(bytes))
        expect(list(decodeBase64Strict(standard, 'base64'))).toEqual(Array.from(bytes))
        expect(list(decodeBase64Strict(url, 'either'))).toEqual(Array.from(bytes))
        expect(list(decodeBase64Strict(standard, 'either'))).toEqual(Array.from(bytes))
        expect(list(decodeBase64Strict(standard.replace(/=+$/, ''), 'base64'))).toEqual(Array.from(bytes))
      }),
    )
  })

  it("refuses the other alphabet, whitespace, misplaced padding and a length that can't be whole", () => {
    expect(decodeBase64Strict('-_-_', 'base64')).toBeUndefined()
    expect(decodeBase64Strict('+/+/', 'base64url')).toBeUndefined()
    expect(list(decodeBase64Strict('+/-_', 'either'))).toEqual([0xfb, 0xff, 0xbf])
    expect(decodeBase64Strict('Zm9v YmFy', 'either')).toBeUndefined()
    expect(decodeBase64Strict('Zm9v\n', 'base64')).toBeUndefined()
    expect(decodeBase64Strict('Zg=Zg', 'either')).toBeUndefined()
    expect(decodeBase64Strict('Zg===', 'either')).toBeUndefined()
    expect(decodeBase64Strict('Zm9vY', 'either')).toBeUndefined()
    expect(decodeBase64Strict('Zm9v!', 'either')).toBeUndefined()
    expect(decodeBase64Strict('é', 'either')).toBeUndefined()
  })

  it('is lenient about how much padding there is, as its callers were', () => {
    expect(list(decodeBase64Strict('Zg', 'base64url'))).toEqual([0x66])
    expect(list(decodeBase64Strict('Zg=', 'base64url'))).toEqual([0x66])
    expect(list(decodeBase64Strict('Zg==', 'base64'))).toEqual([0x66])
    expect(list(decodeBase64Strict('', 'either'))).toEqual([])
  })
})

describe('decodeBase64Lenient', () => {
  it('ignores what is outside the alphabet and a dangling last character (RFC 2045 §6.8)', () => {
    expect(list(decodeBase64Lenient('Zm9v\r\nYmFy'))).toEqual(Array.from(ascii('foobar')))
    expect(list(decodeBase64Lenient('Zm9v*YmE=\r\n'))).toEqual(Array.from(ascii('fooba')))
    expect(list(decodeBase64Lenient('Zm9vY'))).toEqual(Array.from(ascii('foo')))
    expect(list(decodeBase64Lenient('-_ not base64 at all ~'))).toEqual(
      list(decodeBase64Lenient('notbase64atall')),
    )
    expect(list(decodeBase64Lenient(''))).toEqual([])
  })
})
