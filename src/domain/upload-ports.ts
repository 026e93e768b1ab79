/**
 * The ports of attachments sent ahead (`POST /uploads`) and of the
 * messages composed from them: an upload store and a store of large
 * message bodies, both written and read as streams of chunks so that a
 * 35 MiB message never sits whole in memory. lowdb mode keeps them as files
 * in DATA_DIR; PostgreSQL mode as rows of about 1 MiB, so that an upload
 * made through one replica is usable by a send on another and the message
 * deliverable by any. The contract suites (test/contracts/upload-store.contract.ts,
 * large-body-store.contract.ts) hold the fakes and both stores to these rules.
 */
import type { MessageStream } from './ports.ts'
import type { UploadReceipt } from './uploads/upload.ts'

/** What an upload's claim finds: its size and SHA-256 (hex). */
export interface ClaimedUpload {
  size: number
  sha256: string
}

export interface UploadStore {
  /**
   * Stores the bytes of `chunks` as the upload `uploadId` of the API key
   * `apiKeyId`, durably (fsynced, or committed) before it resolves; it
   * expires `ttlMs` after, by the store's clock. When `chunks` throws (the
   * caller's size cap, a client gone), the error is rethrown and nothing is
   * kept.
   */
  put(request: {
    uploadId: string
    apiKeyId: string
    chunks: AsyncIterable<Uint8Array>
    ttlMs: number
  }): Promise<UploadReceipt>
  /**
   * Reserves the upload for message `messageId`, atomically across every
   * process of the store: only for the key that made it, before it expires,
   * and once (until `release`). Undefined when it may not be had.
   */
  claim(request: {
    uploadId: string
    apiKeyId: string
    messageId: string
  }): Promise<ClaimedUpload | undefined>
  /** Gives back the claim of `messageId` (its message was not accepted); other claims stay. */
  release(request: { uploadId: string; messageId: string }): Promise<void>
  /**
   * The upload's bytes in order; a pass over bytes that differ from the
   * size and digest recorded throws before its last chunk. Throws NOT_FOUND
   * for an upload that is gone.
   */
  read(uploadId: string): AsyncIterable<Uint8Array>
  /** Deletes uploads (used by an accepted message, or refused after the upload). */
  remove(uploadIds: readonly string[]): Promise<void>
  /**
   * Deletes every upload whose time ran out, and what broken uploads left
   * behind; resolves with how many uploads it deleted.
   */
  expire(): Promise<number>
}

/** A stored large body: its size and SHA-256 (hex). */
export interface LargeBody {
  size: number
  sha256: string
}

export interface LargeBodyStore {
  /**
   * Writes the body of message `id` from `chunks`, durably before it
   * resolves (fsynced, or committed), replacing none: an id already stored
   * is CONFLICT. Resolves with the size and SHA-256 of what it wrote. When
   * `chunks` throws, the error is rethrown and nothing is kept.
   */
  write(id: string, chunks: AsyncIterable<Uint8Array>): Promise<LargeBody>
  /**
   * The body of `id` as a stream, or undefined when there is none. With
   * `expected`, each pass checks the bytes against it (BODY_DAMAGED before
   * the last chunk when they differ).
   */
  open(id: string, expected?: LargeBody): Promise<MessageStream | undefined>
  remove(ids: readonly string[]): Promise<void>
  /** Every body stored, with its age in ms by the store's clock (for the janitor). */
  list(): Promise<Array<{ id: string; ageMs: number }>>
}
