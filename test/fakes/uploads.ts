/** In-memory upload and large-body stores, to the contracts of `domain/upload-ports.ts`. */
import { createHash } from 'node:crypto'
import { concatBytes } from '../../src/domain/bytes.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import type { Clock, MessageStream } from '../../src/domain/ports.ts'
import type { LargeBody, LargeBodyStore, UploadStore } from '../../src/domain/upload-ports.ts'
import {
  bodyDamaged,
  checkedChunks,
  type IncrementalDigest,
  uploadDamaged,
} from '../../src/domain/uploads/chunks.ts'

export function sha256Digest(): IncrementalDigest {
  const hash = createHash('sha256')
  return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') }
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Chunks of at most `size` bytes, fresh copies, as a store would hand them out. */
async function* inChunks(bytes: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.slice(at, at + size)
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk.slice())
  return concatBytes(parts)
}

interface StoredUpload {
  apiKeyId: string
  bytes: Uint8Array
  sha256: string
  expiresAt: number
  claimedBy?: string
}

export function memoryUploadStore(clock: Clock): UploadStore & { all: Map<string, StoredUpload> } {
  const all = new Map<string, StoredUpload>()
  return {
    all,
    async put({ uploadId, apiKeyId, chunks, ttlMs }) {
      const bytes = await collect(chunks)
      const upload = { apiKeyId, bytes, sha256: sha256Hex(bytes), expiresAt: clock.now() + ttlMs }
      all.set(uploadId, upload)
      return { uploadId, size: bytes.byteLength, sha256: upload.sha256, expiresAt: upload.expiresAt }
    },
    async claim({ uploadId, apiKeyId, messageId }) {
      const upload = all.get(uploadId)
      if (upload === undefined || upload.apiKeyId !== apiKeyId || upload.expiresAt <= clock.now())
        return undefined
      if (upload.claimedBy !== undefined) return undefined
      upload.claimedBy = messageId
      return { size: upload.bytes.byteLength, sha256: upload.sha256 }
    },
    async release({ uploadId, messageId }) {
      const upload = all.get(uploadId)
      if (upload?.claimedBy === messageId) delete upload.claimedBy
    },
    read(uploadId) {
      return (async function* () {
        const upload = all.get(uploadId)
        if (upload === undefined) throw new ServiceError('NOT_FOUND', 'The upload is gone')
        const expected = { size: upload.bytes.byteLength, sha256: upload.sha256 }
        yield* checkedChunks(inChunks(upload.bytes), expected, sha256Digest(), uploadDamaged)
      })()
    },
    async remove(uploadIds) {
      for (const id of uploadIds) all.delete(id)
    },
    async expire() {
      let expired = 0
      for (const [id, upload] of all) {
        if (upload.expiresAt <= clock.now() && upload.claimedBy === undefined) {
          all.delete(id)
          expired++
        }
      }
      return expired
    },
  }
}

export function memoryLargeBodies(
  clock: Clock,
): LargeBodyStore & { all: Map<string, { bytes: Uint8Array; storedAt: number }> } {
  const all = new Map<string, { bytes: Uint8Array; storedAt: number }>()
  return {
    all,
    async write(id, chunks) {
      if (all.has(id)) throw new ServiceError('CONFLICT', 'A body for this message is stored already')
      const bytes = await collect(chunks)
      all.set(id, { bytes, storedAt: clock.now() })
      return { size: bytes.byteLength, sha256: sha256Hex(bytes) }
    },
    async open(id, expected?: LargeBody): Promise<MessageStream | undefined> {
      const body = all.get(id)
      if (body === undefined) return undefined
      if (expected !== undefined && body.bytes.byteLength !== expected.size)
        throw bodyDamaged(`size ${body.bytes.byteLength}, expected ${expected.size}`)
      return {
        size: body.bytes.byteLength,
        open: () =>
          expected === undefined
            ? inChunks(body.bytes)
            : checkedChunks(inChunks(body.bytes), expected, sha256Digest(), bodyDamaged),
      }
    },
    async remove(ids) {
      for (const id of ids) all.delete(id)
    },
    async list() {
      return [...all].map(([id, body]) => ({ id, ageMs: clock.now() - body.storedAt }))
    },
  }
}
