/**
 * RFC 2047 encoded-words for non-ASCII header text, in UTF-8, with B or Q
 * encoding (whichever is shorter for the text), each word at most 75
 * characters and holding whole characters only (§5 and §6.3).
 */
import { encodeBase64 } from './base64.ts'

export type WordEncoding = 'B' | 'Q'

/** RFC 2047 §2: an encoded-word is at most 75 characters. */
export const MAX_ENCODED_WORD = 75
/** `=?utf-8?X?` and `?=`. */
const WORD_OVERHEAD = 12
/** Room for one 4-byte character in either encoding. */
export const MIN_ENCODED_WORD = WORD_OVERHEAD + 12

const HEX = '0123456789ABCDEF'
/** §5 (3): the characters a Q word may carry as themselves, even inside a phrase. */
const Q_LITERAL = new Uint8Array(128)
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/') {
  Q_LITERAL[char.charCodeAt(0)] = 1
}
const utf8 = new TextEncoder()

/** The encoding that makes `text` shorter; Q on a tie since it stays readable. */
export function chooseWordEncoding(text: string): WordEncoding {
  let q = 0
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    // A surrogate pair is 4 bytes; counting each half as 2 gets there.
    const size = isHighSurrogate(code) || isLowSurrogate(code) ? 2 : utf8Length(code)
    bytes += size
    q += code === 32 || (code < 128 && Q_LITERAL[code] === 1) ? 1 : 3 * size
  }
  return q <= Math.ceil(bytes / 3) * 4 ? 'Q' : 'B'
}

/**
 * The longest encoded-word of at most `maxLength` characters holding
 * `text` from index `start`, and the index where it stopped. Never splits a
 * character (a surrogate pair counts as one); always takes at least one.
 */
export function encodedWord(
  text: string,
  start: number,
  maxLength: number,
  encoding: WordEncoding,
): { word: string; end: number } {
  const room = Math.min(maxLength, MAX_ENCODED_WORD) - WORD_OVERHEAD
  const maxBytes = Math.floor(room / 4) * 3
  let used = 0
  let end = start
  while (end < text.length) {
    const code = text.charCodeAt(end)
    const pair = isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(end + 1))
    const size = pair ? 4 : utf8Length(code)
    const cost = encoding === 'B' ? size : code === 32 || (code < 128 && Q_LITERAL[code] === 1) ? 1 : 3 * size
    if (end > start && used + cost > (encoding === 'B' ? maxBytes : room)) break
    used += cost
    end += pair ? 2 : 1
  }
  const chunk = text.slice(start, end)
  const payload = encoding === 'B' ? encodeBase64(utf8.encode(chunk)) : encodeQ(chunk)
  return { word: `=?utf-8?${encoding}?${payload}?=`, end }
}

function encodeQ(text: string): string {
  let out = ''
  for (const byte of utf8.encode(text)) {
    if (byte === 32) out += '_'
    else if (byte < 128 && Q_LITERAL[byte] === 1) out += String.fromCharCode(byte)
    else out += '=' + HEX[byte >> 4] + HEX[byte & 15]
  }
  return out
}

/** UTF-8 length of one UTF-16 unit (a lone surrogate becomes U+FFFD, 3 bytes; pairs are counted by the caller). */
function utf8Length(code: number): number {
  if (code < 0x80) return 1
  return code < 0x800 ? 2 : 3
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}
