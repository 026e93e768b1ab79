/**
 * Decoding of RFC 2047 encoded-words (`=?charset?B|Q?text?=`) in header
 * text, for display. Adjacent words of one charset are joined before
 * decoding, since encoders may split a multi-byte character across them.
 */

import { concatBytes } from '../domain/bytes.ts'
import { checkBase64, decodeBase64 } from '../domain/mime/base64.ts'

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g

export function decodeEncodedWords(text: string): string {
  let out = ''
  let pending: { charset: string; chunks: Uint8Array[] } | undefined
  let last = 0
  const flush = (): void => {
    if (pending !== undefined) out += decodeCharset(pending.charset, concatBytes(pending.chunks))
    pending = undefined
  }
  for (const match of text.matchAll(ENCODED_WORD)) {
    const between = text.slice(last, match.index)
    last = match.index + match[0].length
    const charset = (match[1] ?? '').split('*')[0]!.toLowerCase()
    const bytes = wordBytes(match[2] ?? '', match[3] ?? '')
    const adjacent = pending !== undefined && /^[ \t\r\n]*$/.test(between)
    if (bytes === undefined || !isKnownCharset(charset)) {
      flush()
      out += between + match[0]
    } else if (adjacent && pending?.charset === charset) {
      pending.chunks.push(bytes)
    } else {
      // RFC 2047 §6.2: white space between adjacent encoded-words is not displayed.
      flush()
      if (!adjacent) out += between
      pending = { charset, chunks: [bytes] }
    }
  }
  flush()
  return out + text.slice(last)
}

function wordBytes(encoding: string, data: string): Uint8Array | undefined {
  if (encoding === 'B' || encoding === 'b')
    return checkBase64(data) === 'valid' ? decodeBase64(data) : undefined
  const bytes: number[] = []
  for (let i = 0; i < data.length; i++) {
    const char = data[i]!
    if (char === '_') bytes.push(0x20)
    else if (char === '=') {
      const hex = data.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else bytes.push(char.charCodeAt(0) & 0xff)
  }
  return Uint8Array.from(bytes)
}

function isKnownCharset(charset: string): boolean {
  try {
    new TextDecoder(charset)
    return true
  } catch {
    return false
  }
}

function decodeCharset(charset: string, bytes: Uint8Array): string {
  return new TextDecoder(charset).decode(bytes)
}
