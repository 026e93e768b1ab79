/**
 * Base64 bodies in lines of 76 characters joined by CRLF (RFC 2045 §6.8),
 * written straight into the composed message.
 *
 * Whole lines go through a small WebAssembly SIMD encoder
 * (base64-lines.wat). The runtimes' own base64 encoders only make strings,
 * and cutting a string into lines costs more than encoding it: that path
 * took twice the time of a bare encoding on a 10 MB attachment, this one
 * 1.0 to 1.2 times (bench/compose.ts). Where WebAssembly SIMD is missing
 * (an engine run without it, a page whose policy forbids it), a plain
 * JavaScript encoder writes the same bytes.
 */
import { encodeGroups, STANDARD_CODES } from './base64.ts'
import { BASE64_LINES_WASM } from './base64-lines-wasm.ts'
import { lazyWasmEncoder, type WasmEncoder } from './wasm-module.ts'

/** RFC 2045 §6.8: at most 76 characters a line. */
export const BASE64_LINE = 76
const BYTES_PER_LINE = 57
const CR = 13
const LF = 10

/** Lines per call into the encoder: its input and output stay in the CPU's cache. */
const BLOCK_LINES = 512
/** The encoder reads up to 7 bytes past its input and writes 2 past its output. */
const SLACK = 16
const INPUT_AT = 0
const OUTPUT_AT = INPUT_AT + BLOCK_LINES * BYTES_PER_LINE + SLACK
const MEMORY_NEEDED = OUTPUT_AT + BLOCK_LINES * (BASE64_LINE + 2) + SLACK

/**
 * The WebAssembly encoder: `encodeLines(input, lines, output)` encodes
 * `lines` lines of 57 bytes at `input` as 76 characters and CRLF each at
 * `output`, and returns the end.
 */
const lineEncoder = lazyWasmEncoder(BASE64_LINES_WASM, ['encodeLines'], MEMORY_NEEDED)
type LineEncoder = WasmEncoder<'encodeLines'>

/** Length of `byteLength` bytes as base64 in lines of 76 joined by CRLF (no CRLF after the last). */
export function base64LinesLength(byteLength: number): number {
  const chars = Math.ceil(byteLength / 3) * 4
  return chars === 0 ? 0 : chars + 2 * (Math.ceil(chars / BASE64_LINE) - 1)
}

/**
 * Writes `bytes` as base64 in lines of 76 characters joined by CRLF
 * (RFC 2045 §6.8) into `target` at `offset`; returns the offset after it.
 */
export function writeBase64Lines(bytes: Uint8Array, target: Uint8Array, offset: number): number {
  const wasm = bytes.length >= BYTES_PER_LINE ? lineEncoder() : null
  if (wasm === null) return writeLinesPure(bytes, 0, target, offset)
  const whole = bytes.length - (bytes.length % BYTES_PER_LINE)
  const position = writeWholeLines(wasm, bytes, whole, target, offset)
  return writeLinesPure(bytes, whole, target, position)
}

/**
 * Writes the lines of `bytes[0, whole)` through the WebAssembly encoder,
 * a block at a time: copy in, encode, copy out. Every line ends in CRLF but
 * the last one of the body.
 */
function writeWholeLines(
  wasm: LineEncoder,
  bytes: Uint8Array,
  whole: number,
  target: Uint8Array,
  offset: number,
): number {
  let position = offset
  for (let start = 0; start < whole; ) {
    const lines = Math.min(BLOCK_LINES, (whole - start) / BYTES_PER_LINE)
    const end = start + lines * BYTES_PER_LINE
    wasm.memory.set(bytes.subarray(start, end), INPUT_AT)
    const written = wasm.functions.encodeLines(INPUT_AT, lines, OUTPUT_AT) - OUTPUT_AT
    const kept = end === bytes.length ? written - 2 : written
    target.set(wasm.memory.subarray(OUTPUT_AT, OUTPUT_AT + kept), position)
    position += kept
    start = end
  }
  return position
}

/** Writes the lines of `bytes[from, end)` in plain JavaScript, CRLF between them; the first comes with none. */
function writeLinesPure(bytes: Uint8Array, from: number, target: Uint8Array, offset: number): number {
  let position = offset
  for (let start = from; start < bytes.length; start += BYTES_PER_LINE) {
    if (start > from) {
      target[position++] = CR
      target[position++] = LF
    }
    position = encodeGroups(
      bytes,
      start,
      Math.min(start + BYTES_PER_LINE, bytes.length),
      STANDARD_CODES,
      target,
      position,
    )
  }
  return position
}

/** Which encoder writes whole lines on this runtime: for tests and benchmarks. */
export function base64LinesEncoder(): 'webassembly' | 'javascript' {
  return lineEncoder() === null ? 'javascript' : 'webassembly'
}
