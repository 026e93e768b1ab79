import { describe, expect, test } from 'vitest'
import { decodeBase64Strict, encodeBase64Url } from '../../src/domain/mime/base64.ts'
import { parseAddressList } from '../../src/emulator/address-list.ts'
import { decodeEncodedWords } from '../../src/emulator/encoded-words.ts'
import { summarizeMessage } from '../../src/emulator/mime-summary.ts'
import { multipartBoundary, parseMultipart } from '../../src/emulator/multipart.ts'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('summarizeMessage', () => {
  test('reads folded headers and decodes an RFC 2047 subject split inside a character', () => {
    // "é" is C3 A9 in UTF-8; the encoder split it across two words.
    const raw = bytes(
      'From: =?UTF-8?Q?Ann_Exampl=C3=A9?= <ann@example.com>\r\n' +
        'To: bob@example.com,\r\n carol@example.com\r\n' +
        'Subject: =?UTF-8?B?Q2Fmw6k=?= =?UTF-8?Q?_et_th=C3?=\r\n =?UTF-8?Q?=A9?= plain\r\n' +
        '\r\n' +
        'To: not-a-header@example.com\r\n',
    )
    expect(summarizeMessage(raw)).toEqual({
      from: 'ann@example.com',
      to: ['bob@example.com', 'carol@example.com'],
      cc: [],
      bcc: [],
      recipients: ['bob@example.com', 'carol@example.com'],
      subject: 'Café et thé plain',
    })
  })

  test('counts recipients once across To, Cc and Bcc', () => {
    const raw = bytes('To: a@example.com\nCc: A@example.com, b@example.com\nBcc: c@example.com\n\nbody')
    expect(summarizeMessage(raw).recipients).toEqual(['a@example.com', 'b@example.com', 'c@example.com'])
  })
})

describe('parseAddressList', () => {
  test('keeps addr-specs and drops display names, comments and group names', () => {
    expect(
      parseAddressList(
        '"Doe, John" <john@example.com>, jane@example.com (Jane), Team: x@example.com, y@example.com;, undisclosed-recipients:;',
      ),
    ).toEqual(['john@example.com', 'jane@example.com', 'x@example.com', 'y@example.com'])
  })
})

describe('decodeEncodedWords', () => {
  test('leaves malformed words and unknown charsets as they are', () => {
    expect(decodeEncodedWords('=?x-unknown?Q?a?= and =?UTF-8?Q?=ZZ?=')).toBe(
      '=?x-unknown?Q?a?= and =?UTF-8?Q?=ZZ?=',
    )
  })

  test('decodes ISO-8859-1 words', () => {
    expect(decodeEncodedWords('=?ISO-8859-1?Q?caf=E9?=')).toBe('café')
  })
})

describe('base64url', () => {
  test('round-trips bytes and refuses the standard alphabet', () => {
    const data = Uint8Array.from({ length: 256 }, (_, i) => i)
    const text = encodeBase64Url(data)
    expect(text).not.toMatch(/[+/=]/)
    expect(decodeBase64Strict(text, 'base64url')).toEqual(data)
    expect(decodeBase64Strict(`${text}==`.slice(0, text.length), 'base64url')).toEqual(data)
    expect(decodeBase64Strict('ab+/', 'base64url')).toBeUndefined()
    expect(decodeBase64Strict('YQ==', 'base64url')).toEqual(bytes('a'))
  })
})

describe('parseMultipart', () => {
  test('splits a multipart/related body into its parts', () => {
    const contentType = 'multipart/related; boundary="b-1"'
    const boundary = multipartBoundary(contentType)!
    const body = bytes(
      '--b-1\r\ncontent-type: application/json\r\n\r\n{"threadId":"t"}\r\n' +
        '--b-1\r\ncontent-type: message/rfc822\r\n\r\nTo: x@example.com\r\n\r\nhi\r\n--b-1--',
    )
    const parts = parseMultipart(body, boundary)!
    expect(parts.map((part) => part.headers.get('content-type'))).toEqual([
      'application/json',
      'message/rfc822',
    ])
    expect(new TextDecoder().decode(parts[1]!.body)).toBe('To: x@example.com\r\n\r\nhi')
  })

  test('refuses a body without its closing delimiter', () => {
    expect(parseMultipart(bytes('--b\r\ncontent-type: a/b\r\n\r\nx'), 'b')).toBeUndefined()
  })
})
