/**
 * Quoted-printable (RFC 2045 §6.7) for text bodies, straight from the
 * JavaScript string to ASCII bytes (UTF-8 for what is not ASCII): line
 * breaks (CRLF, lone CR or lone LF) become CRLF, lines end with a soft break
 * before passing 76 characters, a character's escapes stay on one line, and
 * whitespace before a line break is escaped so that transports cannot strip it.
 */

const CR = 13
const LF = 10
const EQUALS = 61
/** Characters a line may hold before its soft-break `=`. */
const LINE_ROOM = 75

/** How an ASCII character is written: as itself, escaped as `=XX`, or looked at more closely. */
const LITERAL = 0
const ESCAPED = 1
const WHITESPACE = 2
const BREAK = 3
const KIND = new Uint8Array(128).fill(ESCAPED)
for (let code = 33; code <= 126; code++) if (code !== EQUALS) KIND[code] = LITERAL
KIND[32] = WHITESPACE
KIND[9] = WHITESPACE
KIND[CR] = BREAK
KIND[LF] = BREAK
const HEX = Uint8Array.from('0123456789ABCDEF', (char) => char.charCodeAt(0))

/**
 * Encodes `text` as quoted-printable ASCII bytes. `characters`, the length
 * of the encoding before soft breaks when the caller has counted it (UTF-8
 * bytes, plus 2 for each escape and each lone line break), sizes the output;
 * without it the worst case (9 for a UTF-16 unit) is allocated.
 */
export function encodeQuotedPrintable(text: string, characters = text.length * 9): Uint8Array {
  // A line holds at least 64 characters before a soft break: the longest escape run is 12.
  const out = new Uint8Array(characters + Math.ceil(characters / 64) * 3 + 3)
  const end = encodeInto(text, out)
  if (end <= out.length) return out.subarray(0, end)
  // Writes past the end are dropped, so a short guess costs a second pass, never bytes.
  const exact = new Uint8Array(end)
  encodeInto(text, exact)
  return exact
}

/** The encoding loop, apart so that the optimizing compiler sees nothing after it. */
function encodeInto(text: string, out: Uint8Array): number {
  const length = text.length
  let o = 0
  let column = 0
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 128) {
      let point = code
      if (code >= 0xd800 && code <= 0xdfff) {
        const next = text.charCodeAt(i + 1)
        if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          point = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00)
          i++
        } else point = 0xfffd
      }
      const size = point < 0x800 ? 2 : point < 0x10000 ? 3 : 4
      if (column + 3 * size > LINE_ROOM) {
        out[o++] = EQUALS
        out[o++] = CR
        out[o++] = LF
        column = 0
      }
      if (size === 2) o = writeEscape(out, o, 0xc0 | (point >> 6))
      else if (size === 3) {
        o = writeEscape(out, o, 0xe0 | (point >> 12))
        o = writeEscape(out, o, 0x80 | ((point >> 6) & 63))
      } else {
        o = writeEscape(out, o, 0xf0 | (point >> 18))
        o = writeEscape(out, o, 0x80 | ((point >> 12) & 63))
        o = writeEscape(out, o, 0x80 | ((point >> 6) & 63))
      }
      o = writeEscape(out, o, 0x80 | (point & 63))
      column += 3 * size
      continue
    }
    let kind = KIND[code]!
    if (kind === LITERAL) {
      if (column === LINE_ROOM) {
        out[o++] = EQUALS
        out[o++] = CR
        out[o++] = LF
        column = 0
      }
      out[o++] = code
      column++
      continue
    }
    if (kind === BREAK) {
      if (code === CR && text.charCodeAt(i + 1) === LF) i++
      out[o++] = CR
      out[o++] = LF
      column = 0
      continue
    }
    if (kind === WHITESPACE) {
      // Whitespace ending a line would be stripped in transit (§6.7 rule 3).
      const next = text.charCodeAt(i + 1)
      kind = next === CR || next === LF || Number.isNaN(next) ? ESCAPED : LITERAL
    }
    const width = kind === LITERAL ? 1 : 3
    if (column + width > LINE_ROOM) {
      out[o++] = EQUALS
      out[o++] = CR
      out[o++] = LF
      column = 0
    }
    if (kind === LITERAL) out[o++] = code
    else o = writeEscape(out, o, code)
    column += width
  }
  return o
}

function writeEscape(out: Uint8Array, at: number, byte: number): number {
  out[at] = EQUALS
  out[at + 1] = HEX[byte >> 4]!
  out[at + 2] = HEX[byte & 15]!
  return at + 3
}

/**
 * A text reaching every branch of the encoder, run once at load so that the
 * optimizing compiler has feedback for all of them: a branch first reached
 * in optimized code deoptimizes it, and V8 (Node 24) was seen to repeat that
 * on every call. Shared with the body scanner for the same reason.
 */
export const EVERY_BRANCH_SAMPLE = `a=b \t\r\nc\rd\ne é€🎉\ud800x\udc00 ${'x'.repeat(80)}\u0001 `
encodeQuotedPrintable(EVERY_BRANCH_SAMPLE)
