/**
 * Text bodies (RFC 2045 §6): sent as 7bit when they are short-lined ASCII,
 * else as quoted-printable, or as base64 when quoted-printable would be
 * much longer (mostly non-Latin text). Line breaks become CRLF (RFC 2046 §4.1.1).
 */
import type { Chunk } from './assemble.ts'
import { base64LinesLength } from './base64-lines.ts'
import { EVERY_BRANCH_SAMPLE, encodeQuotedPrintable } from './quoted-printable.ts'

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
const ASCII_RUNS = /[\x00-\x7f]+/g
const utf8 = new TextEncoder()

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
  // Escapes take 3 characters and lone line breaks 2 (exact), soft breaks 3 more every 75 or so.
  const characters = text.length + scan.bareBreaks + 2 * (scan.escaped + scan.trailingSpaces)
  return choose(text, characters, text.length + scan.bareBreaks, scan.bareBreaks > 0)
}

/**
 * Text with characters beyond ASCII, never 7bit. Its size in UTF-8, and so
 * in quoted-printable, comes from the non-ASCII characters alone, picked out
 * by a native regular expression rather than a scan of the whole text; the
 * few ASCII escapes (`=`, controls, spaces before a break) are left to a
 * margin, since a short guess costs the encoder a second pass, never bytes.
 */
function encodeNonAscii(text: string): EncodedText {
  const nonAscii = text.replace(ASCII_RUNS, '')
  const nonAsciiBytes = utf8Length(nonAscii)
  const bytes = text.length - nonAscii.length + nonAsciiBytes
  return choose(text, bytes + 2 * nonAsciiBytes, bytes, BARE_BREAK.test(text))
}

/** Quoted-printable unless it would be much longer than base64 (mostly non-Latin text). */
function choose(text: string, characters: number, bytes: number, bareBreaks: boolean): EncodedText {
  if (characters + Math.floor(characters / 76) * 3 <= base64LinesLength(bytes) * QUOTED_PRINTABLE_MARGIN) {
    const guess = characters + (text.length >> 4) + 16
    return { transferEncoding: 'quoted-printable', body: encodeQuotedPrintable(text, guess) }
  }
  const normalized = bareBreaks ? text.replace(LINE_BREAKS, '\r\n') : text
  return { transferEncoding: 'base64', body: { base64: utf8.encode(normalized) } }
}

/** UTF-8 length of text without ASCII: 2 bytes below U+0800, 4 for a surrogate pair, 3 otherwise. */
function utf8Length(nonAscii: string): number {
  let length = 0
  for (let i = 0; i < nonAscii.length; i++) {
    const code = nonAscii.charCodeAt(i)
    length += code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 2 : 3
  }
  return length
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
