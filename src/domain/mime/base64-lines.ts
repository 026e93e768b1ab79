/**
 * Base64 bodies in lines of 76 characters joined by CRLF (RFC 2045 §6.8),
 * written straight into the composed message.
 */
import { encodeGroups, nativeSliceEncoder, STANDARD_CODES } from './base64.ts'

/** RFC 2045 §6.8: at most 76 characters a line. */
export const BASE64_LINE = 76
const BYTES_PER_LINE = 57
/** Input encoded per native call: whole lines, enough to amortize the call, few enough to stay in cache. */
const BLOCK_BYTES = BYTES_PER_LINE * 128
/** CR then LF, as a little-endian 16-bit value. */
const CRLF = 0x0a0d

interface Latin1Writable {
  write(text: string, offset: number, encoding: 'latin1'): number
}
interface BufferConstructor {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Latin1Writable
}

const NodeBuffer = (globalThis as unknown as { Buffer?: BufferConstructor }).Buffer
const ascii = new TextEncoder()

/** Length of `byteLength` bytes as base64 in lines of 76 joined by CRLF (no CRLF after the last). */
export function base64LinesLength(byteLength: number): number {
  const chars = Math.ceil(byteLength / 3) * 4
  return chars === 0 ? 0 : chars + 2 * (Math.ceil(chars / BASE64_LINE) - 1)
}

/**
 * Writes `bytes` as base64 in lines of 76 characters joined by CRLF
 * (RFC 2045 §6.8) into `target` at `offset`; returns the offset after it.
 * A native encoder turns a block of whole lines into one string, written
 * into a small scratch buffer that stays in cache; the lines are then copied
 * out eight bytes at a time, which beats a native call per line.
 */
export function writeBase64Lines(bytes: Uint8Array, target: Uint8Array, offset: number): number {
  const encodeSlice = nativeSliceEncoder(bytes)
  if (encodeSlice === undefined) return writeLinesPure(bytes, target, offset)
  const scratch = new Uint8Array(Math.ceil(Math.min(BLOCK_BYTES, bytes.length) / 3) * 4)
  const writeAscii = asciiWriter(scratch)
  const from = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength)
  const to = new DataView(target.buffer, target.byteOffset, target.byteLength)
  let position = offset
  for (let start = 0; start < bytes.length; start += BLOCK_BYTES) {
    const text = encodeSlice(start, Math.min(start + BLOCK_BYTES, bytes.length))
    if (start > 0) {
      to.setUint16(position, CRLF, true)
      position += 2
    }
    writeAscii(text, 0)
    position = copyLines(from, to, text.length, position)
  }
  return position
}

/** Copies `length` base64 characters from `from` into `to` at `position` as CRLF-joined lines. */
function copyLines(from: DataView, to: DataView, length: number, position: number): number {
  let at = 0
  let out = position
  for (; at + BASE64_LINE <= length; at += BASE64_LINE) {
    if (at > 0) {
      to.setUint16(out, CRLF, true)
      out += 2
    }
    copyLine(from, at, to, out)
    out += BASE64_LINE
  }
  if (at < length) {
    if (at > 0) {
      to.setUint16(out, CRLF, true)
      out += 2
    }
    for (; at < length; at++) to.setUint8(out++, from.getUint8(at))
  }
  return out
}

/**
 * One 76-character line as nine 8-byte moves and one 4-byte move, unrolled.
 * Moving bytes through a float64 is exact here: base64 text is ASCII, so
 * the top byte of every 8 is below 0x80 and the exponent below 0x7ff; no
 * value is a NaN (whose bits an engine may change) or a subnormal. It halves
 * the moves of a 4-byte copy, which V8 already runs twice as fast unrolled.
 */
function copyLine(from: DataView, at: number, to: DataView, out: number): void {
  to.setFloat64(out + 0, from.getFloat64(at + 0, true), true)
  to.setFloat64(out + 8, from.getFloat64(at + 8, true), true)
  to.setFloat64(out + 16, from.getFloat64(at + 16, true), true)
  to.setFloat64(out + 24, from.getFloat64(at + 24, true), true)
  to.setFloat64(out + 32, from.getFloat64(at + 32, true), true)
  to.setFloat64(out + 40, from.getFloat64(at + 40, true), true)
  to.setFloat64(out + 48, from.getFloat64(at + 48, true), true)
  to.setFloat64(out + 56, from.getFloat64(at + 56, true), true)
  to.setFloat64(out + 64, from.getFloat64(at + 64, true), true)
  to.setUint32(out + 72, from.getUint32(at + 72, true), true)
}

/** Writes an ASCII string into `target` at an offset: Buffer's latin1 copy where there is one, else TextEncoder. */
function asciiWriter(target: Uint8Array): (text: string, at: number) => void {
  if (NodeBuffer !== undefined) {
    const view = NodeBuffer.from(target.buffer, target.byteOffset, target.byteLength)
    return (text, at) => view.write(text, at, 'latin1')
  }
  return (text, at) => ascii.encodeInto(text, target.subarray(at, at + text.length))
}

function writeLinesPure(bytes: Uint8Array, target: Uint8Array, offset: number): number {
  let position = offset
  for (let start = 0; start < bytes.length; start += BYTES_PER_LINE) {
    if (start > 0) {
      target[position++] = 13
      target[position++] = 10
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

/**
 * Runs the line writer once on a small input that reaches every branch, so
 * that the optimizing compiler has type feedback for all of them. A branch
 * first reached inside optimized code deoptimizes it, and V8 (Node 24) was
 * seen to repeat that on every large attachment, leaving the copy loop
 * interpreted and ten times slower.
 */
function primeLineWriter(): void {
  const sample = new Uint8Array(BLOCK_BYTES + BYTES_PER_LINE + 1)
  writeBase64Lines(sample, new Uint8Array(base64LinesLength(sample.length)), 0)
}
primeLineWriter()
