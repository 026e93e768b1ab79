/**
 * Attachments sent ahead of their message: `POST /uploads` streams one
 * attachment's bytes to storage and answers an `uploadId`, which a
 * `MailInput` names as `attachments: [{ filename, uploadId }]`. The limits
 * and names every layer shares; pure.
 */
import { MAX_MESSAGE_BYTES } from '../mail/message.ts'
import { base64LinesLength } from '../mime/base64-lines.ts'

/** What `POST /uploads` answers: the id to name in a message, and what was stored. */
export interface UploadReceipt {
  uploadId: string
  /** Bytes stored. */
  size: number
  /** SHA-256 of the bytes, lower-case hex. */
  sha256: string
  /** Epoch ms after which an upload no message used is deleted. */
  expiresAt: number
}

/** An upload's id: letters, digits, `-` and `_` (it names files in lowdb mode). */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{16,64}$/

/** An unused upload is deleted this long after it was made (the default of `UPLOAD_TTL_MS`). */
export const DEFAULT_UPLOAD_TTL_MS = 24 * 3_600_000

/**
 * Messages composed from uploads at least this large are written, as they
 * are composed, to the large-body store and read from it as a stream when
 * sent; smaller ones are composed in memory and stored like any message.
 */
export const LARGE_BODY_MIN_BYTES = 1_048_576

/**
 * The largest upload that fits in a 35 MiB message once base64-encoded in
 * lines of 76 (26,819,349 bytes): a larger one could never be sent, so it
 * is refused while it is uploaded.
 */
export const MAX_UPLOAD_BYTES = largestFitting(MAX_MESSAGE_BYTES)

function largestFitting(limit: number): number {
  let low = 0
  let high = limit
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (base64LinesLength(middle) <= limit) low = middle
    else high = middle - 1
  }
  return low
}

/** The refusal of an uploadId the caller may not use, worded alike for every reason (nothing leaks). */
export function unavailableUploadMessage(uploadId: string): string {
  const shown = uploadId.length > 64 ? `${uploadId.slice(0, 64)}…` : uploadId
  return `No upload ${JSON.stringify(shown)} is available to this API key: it is unknown, expired, already used by a message, or was made with another key`
}
