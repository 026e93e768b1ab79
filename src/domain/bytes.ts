/** Byte-array helpers that Buffer would give, written for Web runtimes (no I/O). */

/** Index of `needle` in `haystack` at or after `from`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0]
  if (first === undefined) return from
  const last = haystack.length - needle.length
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1
    while (j < needle.length && haystack[i + j] === needle[j]) j++
    if (j === needle.length) return i
  }
  return -1
}

/** The chunks one after the other in one new array; `total` is their length, when the caller knows it. */
export function concatBytes(
  chunks: readonly Uint8Array[],
  total = chunks.reduce((sum, chunk) => sum + chunk.length, 0),
): Uint8Array {
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

export const ascii = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Below this, memory is left to the garbage collector. */
const RELEASE_MIN_BYTES = 64 * 1024

/**
 * Frees the memory of `bytes` now rather than at the next garbage collection
 * (it detaches its buffer: every view of it becomes empty), when `bytes` is
 * the whole of a large buffer; for bytes their owner is done with, that
 * nothing else shares (a pooled slice is never the whole of its buffer).
 */
export function releaseBytes(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBufferLike & { transfer?: (length: number) => ArrayBuffer }
  if (bytes.byteLength < RELEASE_MIN_BYTES || bytes.byteOffset !== 0) return
  if (bytes.byteLength !== buffer.byteLength || typeof buffer.transfer !== 'function') return
  buffer.transfer(0)
}
