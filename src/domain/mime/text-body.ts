/**
 * Text bodies (RFC 2045 §6): sent as 7bit when they are short-lined ASCII,
 * else as quoted-printable, or as base64 when quoted-printable would be
 * much longer (mostly non-Latin text). Line breaks become CRLF (RFC 2046 §4.1.1).
 */
import type { Chunk } from './assemble.ts'
import { base64LinesLength } from './base64-lines.ts'
import { EVERY_BRANCH_SAMPLE, encodeQuotedPrintable, tryQuotedPrintable } from './quoted-printable.ts'

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
const LINE_BREAKS = /\r\n|\r|\n/g
const BARE_BREAK = /\r(?!\n)|(?<!\r)\n/
const NON_ASCII = /[^\x00-\x7f]/
const utf8 = new TextEncoder()
/** Texts up to this many UTF-16 units are encoded into the reused scratch buffer. */
const MAX_SCRATCH_UNITS = 256 * 1024
let scratch = new Uint8Array(16 * 1024)

/**
 * The UTF-8 bytes of `text` in a buffer reused from call to call: valid only
 * until the next call, so for reading, never for keeping. It spares the
 * allocation `TextEncoder.encode` makes, which costs as much as the encoding
 * on short bodies; composition is synchronous, so no two calls overlap.
 */
function utf8Scratch(text: string): Uint8Array {
  if (text.length > MAX_SCRATCH_UNITS) return utf8.encode(text)
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3)
  return scratch.subarray(0, utf8.encodeInto(text, scratch).written)
}

/** Encodes a text body, choosing the transfer encoding by its content. */
export function encodeTextBody(text: string): EncodedText {
  return NON_ASCII.test(text) ? encodeNonAscii(text) : encodeAscii(text)
}

/** ASCII text: 7bit when its lines are short and clean, else the shorter of quoted-printable and base64. */
function encodeAscii(text: string): EncodedText {
  const scan = scanText(text)
  if (scan.escaped === scan.equals && !scan.longLines && scan.trailingSpaces === 0) {
    return {
      transferEncoding: '7bit',
      body: scan.bareBreaks === 0 ? text : text.replace(LINE_BREAKS, '\r\n'),
    }
  }
  const normalized = scan.bareBreaks === 0 ? text : text.replace(LINE_BREAKS, '\r\n')
  // ASCII: a byte a character. Escapes take 3 characters (counted), soft breaks 3 more at least every 73.
  const characters = normalized.length + 2 * (scan.escaped + scan.trailingSpaces)
  const limit = base64LinesLength(normalized.length) * QUOTED_PRINTABLE_MARGIN
  if (characters + Math.floor(characters / 76) * 3 <= limit) {
    const capacity = characters + Math.ceil(characters / 73) * 3 + 3
    return {
      transferEncoding: 'quoted-printable',
      body: encodeQuotedPrintable(utf8Scratch(normalized), capacity),
    }
  }
  return { transferEncoding: 'base64', body: { base64: utf8.encode(normalized) } }
}

/**
 * Text with characters beyond ASCII, never 7bit: encoded as quoted-printable
 * straight away, up to the size past which base64 is chosen anyway, and then
 * given up for base64; nothing is spent measuring first.
 */
function encodeNonAscii(text: string): EncodedText {
  const bytes = utf8Scratch(text)
  const limit = base64LinesLength(bytes.length) * QUOTED_PRINTABLE_MARGIN
  const attempt = tryQuotedPrintable(bytes, limit + 16)
  if (attempt !== undefined && attempt.length <= limit) {
    return { transferEncoding: 'quoted-printable', body: attempt }
  }
  const normalized = BARE_BREAK.test(text) ? text.replace(LINE_BREAKS, '\r\n') : text
  return { transferEncoding: 'base64', body: { base64: utf8.encode(normalized) } }
}

interface TextScan {
  /** Characters quoted-printable escapes: controls and `=`. */
  escaped: number
  /** `=` signs, which 7bit carries but quoted-printable escapes. */
  equals: number
  /** Lone CRs and LFs, each to become CRLF. */
  bareBreaks: number
  /** Lines ending in a space or tab, which quoted-printable escapes. */
  trailingSpaces: number
  longLines: boolean
}

/** How an ASCII character counts: 0 plain, 1 escaped, 2 space or tab, 3 CR or LF. */
const CLASS = new Uint8Array(128).fill(1)
for (let code = 32; code < 127; code++) CLASS[code] = 0
CLASS[61] = 1
CLASS[32] = 2
CLASS[9] = 2
CLASS[CR] = 3
CLASS[LF] = 3

/** Counts what the choice of encoding depends on, in ASCII text. */
function scanText(text: string): TextScan {
  let escaped = 0
  let equals = 0
  let bareBreaks = 0
  let trailingSpaces = 0
  let longLines = false
  let lineStart = 0
  let previous = 0
  const length = text.length
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    const kind = CLASS[code & 127]!
    if (kind === 3) {
      if (i - lineStart > MAX_7BIT_LINE) longLines = true
      if (previous === 2) trailingSpaces++
      if (code === CR && text.charCodeAt(i + 1) === LF) i++
      else bareBreaks++
      lineStart = i + 1
    } else if (kind === 1) {
      escaped++
      if (code === 61) equals++
    }
    previous = kind
  }
  if (length - lineStart > MAX_7BIT_LINE) longLines = true
  if (previous === 2) trailingSpaces++
  return { escaped, equals, bareBreaks, trailingSpaces, longLines }
}

// Feedback for every branch before any large body, as for the encoder.
scanText(EVERY_BRANCH_SAMPLE.replace(/[^\x00-\x7f]/g, ''))
scanText('short ascii\r\n')
