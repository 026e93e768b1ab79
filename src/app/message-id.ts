/**
 * Message ids that sort in acceptance order: UUID version 7 (RFC 9562 §5.7)
 * with a counter in `rand_a` (the monotonic method of §6.2), so that messages
 * accepted in the same millisecond still keep their order in `mail.list` and
 * in the delivery queue, where ties on `createdAt` fall back to the id.
 */

/** Two hex digits for each byte value. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
/** Random bytes asked of the runtime at once: one call for 256 ids instead of one each. */
const POOL_BYTES = 4096

/** Fresh random bytes from a pool refilled with `crypto.getRandomValues` (never handed out twice). */
export function pooledRandomBytes(): (length: number) => Uint8Array {
  let pool = new Uint8Array(0)
  let at = 0
  return (length) => {
    if (at + length > pool.length) {
      pool = crypto.getRandomValues(new Uint8Array(Math.max(POOL_BYTES, length)))
      at = 0
    }
    const bytes = pool.slice(at, at + length)
    at += length
    return bytes
  }
}

/** Returns a generator of UUIDv7 strings, strictly increasing for one generator. */
export function createMessageIds(
  now: () => number,
  randomBytes: (length: number) => Uint8Array = pooledRandomBytes(),
): () => string {
  let lastMs = -1
  let counter = 0
  return () => {
    let ms = Math.max(Math.floor(now()), lastMs)
    if (ms === lastMs) {
      counter++
      // 12 bits of counter per millisecond; past them, borrow the next millisecond.
      if (counter > 0xfff) {
        ms++
        counter = 0
      }
    } else {
      counter = 0
    }
    lastMs = ms
    const bytes = randomBytes(16)
    for (let index = 5; index >= 0; index--) {
      bytes[index] = ms % 256
      ms = Math.floor(ms / 256)
    }
    bytes[6] = 0x70 | (counter >> 8)
    bytes[7] = counter & 0xff
    bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f)
    let hex = ''
    for (const byte of bytes) hex += HEX[byte]
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
}
