/**
 * Text bodies (RFC 2045 §6): sent as 7bit when they are short-lined ASCII,
 * else as quoted-printable, or as base64 when quoted-printable would be
 * longer (mostly non-Latin text). Line breaks become CRLF (RFC 2046 §4.1.1).
 */
import type { Chunk } from './assemble.ts'
import { base64LinesLength } from './base64.ts'
import { encodeQuotedPrintable } from './quoted-printable.ts'

export type TransferEncoding = '7bit' | 'quoted-printable' | 'base64'

export interface EncodedText {
  transferEncoding: TransferEncoding
  body: Chunk
}

/** Longest line sent as 7bit; longer ones go quoted-printable, which folds them. */
const MAX_7BIT_LINE = 76
/** Quoted-printable stays readable, so it is kept unless this much bigger than base64. */
const QUOTED_PRINTABLE_MARGIN = 1.25
const CR = 13
const LF = 10
const utf8 = new TextEncoder()

/** Encodes a text body, choosing the transfer encoding by its content. */
export function encodeTextBody(text: string): EncodedText {
  const bytes = utf8.encode(text)
  const scan = scanText(bytes)
  if (scan.nonText === 0 && !scan.longLines && !scan.trailingSpace) {
    return { transferEncoding: '7bit', body: scan.bareBreaks === 0 ? bytes : toCrlf(bytes, scan.bareBreaks) }
  }
  // Quoted-printable: 3 characters an escaped byte, 3 more for each soft break of a 75-character line.
  const quoted = bytes.length + scan.bareBreaks + 2 * scan.escaped
  const base64 = base64LinesLength(bytes.length + scan.bareBreaks)
  if (quoted + Math.floor(quoted / 76) * 3 <= base64 * QUOTED_PRINTABLE_MARGIN) {
    return { transferEncoding: 'quoted-printable', body: encodeQuotedPrintable(bytes) }
  }
  return {
    transferEncoding: 'base64',
    body: { base64: scan.bareBreaks === 0 ? bytes : toCrlf(bytes, scan.bareBreaks) },
  }
}

interface TextScan {
  /** Bytes quoted-printable must escape: non-ASCII, controls, `=`. */
  escaped: number
  /** Bytes 7bit cannot carry: non-ASCII and controls. */
  nonText: number
  /** Lone CRs and LFs, each to become CRLF. */
  bareBreaks: number
  longLines: boolean
  trailingSpace: boolean
}

function scanText(bytes: Uint8Array): TextScan {
  let escaped = 0
  let nonText = 0
  let bareBreaks = 0
  let longLines = false
  let trailingSpace = false
  let lineStart = 0
  const length = bytes.length
  for (let i = 0; i < length; i++) {
    const byte = bytes[i]!
    if (byte === CR || byte === LF) {
      if (i - lineStart > MAX_7BIT_LINE) longLines = true
      const last = bytes[i - 1]
      if (i > lineStart && (last === 32 || last === 9)) trailingSpace = true
      if (byte === CR && bytes[i + 1] === LF) i++
      else bareBreaks++
      lineStart = i + 1
    } else if (byte >= 127 || (byte < 32 && byte !== 9)) {
      escaped++
      nonText++
    } else if (byte === 61) escaped++
  }
  if (length - lineStart > MAX_7BIT_LINE) longLines = true
  const last = bytes[length - 1]
  if (length > lineStart && (last === 32 || last === 9)) trailingSpace = true
  return { escaped, nonText, bareBreaks, longLines, trailingSpace }
}

/** Copies `bytes` with every lone CR or LF made CRLF. */
function toCrlf(bytes: Uint8Array, bareBreaks: number): Uint8Array {
  const out = new Uint8Array(bytes.length + bareBreaks)
  let o = 0
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!
    if (byte === CR || byte === LF) {
      if (byte === CR && bytes[i + 1] === LF) i++
      out[o++] = CR
      out[o++] = LF
    } else out[o++] = byte
  }
  return out
}
