/**
 * Quoted-printable (RFC 2045 §6.7) for text bodies, bytes to bytes: line
 * breaks (CRLF, lone CR or lone LF) become CRLF, lines end with a soft break
 * before passing 76 characters, and whitespace before a line break is
 * encoded so that transports cannot strip it.
 */

const CR = 13
const LF = 10
const EQUALS = 61
/** Characters a line may hold before its soft-break `=`. */
const LINE_ROOM = 75

/** How each byte is written: as itself, escaped as `=XX`, or looked at more closely. */
const LITERAL = 0
const ESCAPED = 1
const WHITESPACE = 2
const BREAK = 3
const KIND = new Uint8Array(256).fill(ESCAPED)
for (let byte = 33; byte <= 126; byte++) if (byte !== EQUALS) KIND[byte] = LITERAL
KIND[32] = WHITESPACE
KIND[9] = WHITESPACE
KIND[CR] = BREAK
KIND[LF] = BREAK
const HEX = Uint8Array.from('0123456789ABCDEF', (char) => char.charCodeAt(0))

/** Encodes UTF-8 `bytes` as quoted-printable ASCII bytes. */
export function encodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  // Each byte takes at most 3 characters, and a soft break at most every 25 bytes.
  const out = new Uint8Array(bytes.length * 3 + Math.ceil(bytes.length / 25) * 3 + 3)
  return out.subarray(0, encodeInto(bytes, out))
}

/** The encoding loop, apart so that the optimizing compiler sees nothing after it. */
function encodeInto(bytes: Uint8Array, out: Uint8Array): number {
  const length = bytes.length
  let o = 0
  let column = 0
  for (let i = 0; i < length; i++) {
    const byte = bytes[i]!
    let kind = KIND[byte]!
    if (kind === LITERAL) {
      if (column === LINE_ROOM) {
        out[o++] = EQUALS
        out[o++] = CR
        out[o++] = LF
        column = 0
      }
      out[o++] = byte
      column++
      continue
    }
    if (kind === BREAK) {
      if (byte === CR && i + 1 < length && bytes[i + 1] === LF) i++
      out[o++] = CR
      out[o++] = LF
      column = 0
      continue
    }
    if (kind === WHITESPACE) {
      // Whitespace ending a line would be stripped in transit (§6.7 rule 3).
      kind = i + 1 < length && KIND[bytes[i + 1]!] !== BREAK ? LITERAL : ESCAPED
    }
    const width = kind === LITERAL ? 1 : 3
    if (column + width > LINE_ROOM) {
      out[o++] = EQUALS
      out[o++] = CR
      out[o++] = LF
      column = 0
    }
    if (kind === LITERAL) out[o++] = byte
    else {
      out[o++] = EQUALS
      out[o++] = HEX[byte >> 4]!
      out[o++] = HEX[byte & 15]!
    }
    column += width
  }
  return o
}
