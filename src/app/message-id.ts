/**
 * Message ids that sort in acceptance order: UUID version 7 (RFC 9562 §5.7)
 * with a counter in `rand_a` (the monotonic method of §6.2), so that messages
 * accepted in the same millisecond still keep their order in `mail.list` and
 * in the delivery queue, where ties on `createdAt` fall back to the id.
 */

/** Returns a generator of UUIDv7 strings, strictly increasing for one generator. */
export function createMessageIds(
  now: () => number,
  randomBytes: (length: number) => Uint8Array = (length) => crypto.getRandomValues(new Uint8Array(length)),
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
    const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
}
