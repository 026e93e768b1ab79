/**
 * Quoted-printable (RFC 2045 §6.7) for text bodies, from UTF-8 bytes to
 * ASCII bytes: line breaks (CRLF, lone CR or lone LF) become CRLF, lines end
 * with a soft break before passing 76 characters, a character's escapes stay
 * on one line, and whitespace before a line break is escaped so that
 * transports cannot strip it.
 *
 * Bodies up to 64 KiB go through a WebAssembly encoder
 * (quoted-printable.wat), which writes the same bytes as the JavaScript one
 * below at several times its speed: once an ArrayBuffer has been detached
 * anywhere in the process (Node's TypeScript loader and web streams both do
 * it), V8 checks every typed-array access in JavaScript, and this loop is
 * nothing but such accesses. Larger bodies, and runtimes without
 * WebAssembly, use the JavaScript encoder.
 */

import { QUOTED_PRINTABLE_WASM } from './quoted-printable-wasm.ts'
import { lazyWasmEncoder } from './wasm-module.ts'

const CR = 13
const LF = 10
const EQUALS = 61
/** Characters a line may hold before its soft-break `=`. */
const LINE_ROOM = 75
/** RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters. */
const MAX_LINE = 76

const HEX = Uint8Array.from('0123456789ABCDEF', (char) => char.charCodeAt(0))
/** 1 for the bytes written as themselves: printable ASCII but `=`, space and tab. */
const LITERAL = new Uint8Array(256)
for (let byte = 32; byte < 127; byte++) LITERAL[byte] = 1
LITERAL[EQUALS] = 0
LITERAL[9] = 1

/**
 * Largest input the WebAssembly encoder takes. Its memory: the module's own
 * table (the first KiB), the input and 16 bytes it may read past it, and 4
 * times as much output with 32 bytes it may write past it.
 */
const WASM_MAX_INPUT = 64 * 1024
const WASM_INPUT_AT = 1024
const WASM_OUTPUT_AT = WASM_INPUT_AT + WASM_MAX_INPUT + 16
const WASM_MEMORY_NEEDED = WASM_OUTPUT_AT + 4 * WASM_MAX_INPUT + 32

/** `encode(input, length, output, capacity)`: bytes written at `output`, or -1 past `capacity`. */
const wasmEncoder = lazyWasmEncoder(QUOTED_PRINTABLE_WASM, ['encode'], WASM_MEMORY_NEEDED)

/**
 * Encodes UTF-8 `bytes` as quoted-printable ASCII bytes. `capacity`, when
 * the caller knows the size closely, saves allocating the worst case (3 a
 * byte and the soft breaks); a short one costs a second pass, never bytes.
 */
export function encodeQuotedPrintable(
  bytes: Uint8Array,
  capacity = bytes.length * 3 + bytes.length / 25 + 3,
): Uint8Array {
  // Room for the worst case: 3 characters a byte and a soft break every 25 escapes.
  const encoded = encodeWithWasm(bytes, 4 * bytes.length + 16)
  if (encoded !== undefined && encoded !== null) return encoded
  const out = new Uint8Array(Math.ceil(capacity))
  const end = encodeInto(bytes, out, false)
  if (end <= out.length) return out.subarray(0, end)
  const exact = new Uint8Array(end)
  encodeInto(bytes, exact, false)
  return exact
}

/**
 * Encodes `bytes` if the result fits in `capacity`, else gives up early and
 * returns undefined: for a caller that would prefer base64 past that size,
 * so that nothing is spent measuring beforehand.
 */
export function tryQuotedPrintable(bytes: Uint8Array, capacity: number): Uint8Array | undefined {
  const size = Math.ceil(capacity)
  const encoded = encodeWithWasm(bytes, size)
  if (encoded !== undefined) return encoded ?? undefined
  const out = new Uint8Array(size)
  const end = encodeInto(bytes, out, true)
  return end < 0 || end > out.length ? undefined : out.subarray(0, end)
}

/**
 * Encodes through WebAssembly: the bytes, or null when they need more than
 * `capacity`; undefined when that encoder is missing or `bytes` too large
 * for it.
 */
function encodeWithWasm(bytes: Uint8Array, capacity: number): Uint8Array | null | undefined {
  const wasm = bytes.length <= WASM_MAX_INPUT ? wasmEncoder() : null
  if (wasm === null) return undefined
  wasm.memory.set(bytes, WASM_INPUT_AT)
  const end = wasm.functions.encode(WASM_INPUT_AT, bytes.length, WASM_OUTPUT_AT, capacity)
  if (end < 0 || end > capacity) return null
  return wasm.memory.slice(WASM_OUTPUT_AT, WASM_OUTPUT_AT + end)
}

/** Which encoder takes bodies up to 64 KiB on this runtime: for tests and benchmarks. */
export function quotedPrintableEncoder(): 'webassembly' | 'javascript' {
  return wasmEncoder() === null ? 'javascript' : 'webassembly'
}

/**
 * The encoding loop, apart so that the optimizing compiler sees nothing
 * after it. Printable runs (spaces included) are copied four bytes at a time
 * while the line has room, a byte at a time near its end; a space that turns
 * out to end a line is escaped afterwards. With `giveUp`, returns -1 once
 * the output no longer fits; else the length needed, even past the end of
 * `out` (writes there are dropped).
 */
function encodeInto(src: Uint8Array, out: Uint8Array, giveUp: boolean): number {
  const length = src.length
  const from = new DataView(src.buffer, src.byteOffset, src.byteLength)
  const to = new DataView(out.buffer, out.byteOffset, out.byteLength)
  let o = 0
  let column = 0
  let i = 0
  while (i < length) {
    const limit = Math.min(length, i + LINE_ROOM - column)
    const start = i
    while (i + 4 <= limit && o + 4 <= out.length) {
      const word = from.getUint32(i, true)
      if (!isPrintableWord(word)) break
      to.setUint32(o, word, true)
      o += 4
      i += 4
    }
    while (i < limit && LITERAL[src[i]!] === 1) out[o++] = src[i++]!
    column += i - start
    if (i === length) break
    const byte = src[i]!
    if (i === limit && LITERAL[byte] === 1) {
      o = softBreak(out, o)
      column = 0
      continue
    }
    if (giveUp && o > out.length) return -1
    if (byte === CR || byte === LF) {
      o = escapeTrailingSpace(out, o, column, i > 0 ? src[i - 1]! : 0)
      if (byte === CR && src[i + 1] === LF) i++
      out[o++] = CR
      out[o++] = LF
      column = 0
      i++
      continue
    }
    // A UTF-8 sequence is escaped whole on one line; a stray continuation byte alone.
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1
    const end = Math.min(i + size, length)
    if (column + 3 * (end - i) > LINE_ROOM) {
      o = softBreak(out, o)
      column = 0
    }
    column += 3 * (end - i)
    for (; i < end; i++) o = writeEscape(out, o, src[i]!)
  }
  return escapeTrailingSpace(out, o, column, length > 0 ? src[length - 1]! : 0)
}

/**
 * Whether four bytes are all printable ASCII other than `=` (no byte at or
 * above 0x80, below 0x20, equal to 0x3d or 0x7f), by the classic SWAR tests
 * for a byte below a bound and a zero byte.
 */
function isPrintableWord(word: number): boolean {
  return (
    (word & 0x80808080) === 0 &&
    ((word - 0x20202020) & ~word & 0x80808080) === 0 &&
    hasNoZeroByte(word ^ 0x3d3d3d3d) &&
    hasNoZeroByte(word ^ 0x7f7f7f7f)
  )
}

function hasNoZeroByte(word: number): boolean {
  return ((word - 0x01010101) & ~word & 0x80808080) === 0
}

/**
 * Escapes the space or tab that ends a line (§6.7 rule 3: transports may
 * strip trailing whitespace). `previous` is the byte before the break; a
 * space or tab is always written as itself, so it is the last byte out.
 */
function escapeTrailingSpace(out: Uint8Array, at: number, column: number, previous: number): number {
  if (previous !== 32 && previous !== 9) return at
  // The escape takes two more characters than the space; a line holds at most 76.
  const start = column + 2 > MAX_LINE ? softBreak(out, at - 1) : at - 1
  return writeEscape(out, start, previous)
}

function softBreak(out: Uint8Array, at: number): number {
  out[at] = EQUALS
  out[at + 1] = CR
  out[at + 2] = LF
  return at + 3
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
const sample = new TextEncoder().encode(EVERY_BRANCH_SAMPLE)
encodeInto(sample, new Uint8Array(sample.length * 4), false)
encodeInto(sample, new Uint8Array(16), true)
