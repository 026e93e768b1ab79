/**
 * Streams of bytes as async iterables of chunks, checked as they pass: a
 * cap on their length, and a check against a recorded size and digest
 * that fails before the last chunk is let through, so that whoever sends
 * the bytes on (Gmail's upload, a file) never sees a damaged stream end
 * well. Pure: the digest is given by the caller (adapters use node:crypto).
 */
import { ServiceError } from '../errors.ts'

/** A SHA-256 fed chunk by chunk. */
export interface IncrementalDigest {
  update(bytes: Uint8Array): void
  /** The digest of everything fed, lower-case hex. */
  hex(): string
}

/** What a stored stream must be: its length and SHA-256 (hex). */
export interface ExpectedBytes {
  size: number
  sha256: string
}

/**
 * The chunks of `source`, throwing `tooLarge()` as soon as more than
 * `maxBytes` have come (the chunk that passes the limit is not given on).
 */
export async function* limitedChunks(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
): AsyncGenerator<Uint8Array> {
  let total = 0
  for await (const chunk of source) {
    total += chunk.byteLength
    if (total > maxBytes) throw tooLarge()
    yield chunk
  }
}

/**
 * The chunks of `source`, checked against `expected`: one chunk is held
 * back until the next comes, and the last is given only once the length
 * and the digest match; else `damaged(detail)` is thrown instead.
 */
export async function* checkedChunks(
  source: AsyncIterable<Uint8Array>,
  expected: ExpectedBytes,
  digest: IncrementalDigest,
  damaged: (detail: string) => Error,
): AsyncGenerator<Uint8Array> {
  let held: Uint8Array | undefined
  let size = 0
  for await (const chunk of source) {
    if (chunk.byteLength === 0) continue
    size += chunk.byteLength
    if (size > expected.size) throw damaged(`more than the ${expected.size} bytes recorded`)
    digest.update(chunk)
    if (held !== undefined) yield held
    held = chunk
  }
  if (size !== expected.size) throw damaged(`size ${size}, expected ${expected.size}`)
  if (digest.hex() !== expected.sha256)
    throw damaged(`size ${size} as expected, but its SHA-256 digest differs`)
  if (held !== undefined) yield held
}

/** The refusal of a stored body that differs from what was recorded: it is not sent. */
export function bodyDamaged(detail: string): ServiceError {
  return new ServiceError(
    'BODY_DAMAGED',
    `The stored message body is damaged (${detail}); the message was not sent`,
  )
}

/** The refusal of an upload whose stored bytes differ from what was recorded. */
export function uploadDamaged(detail: string): ServiceError {
  return new ServiceError('STORAGE', `An uploaded attachment is damaged in storage (${detail})`)
}
