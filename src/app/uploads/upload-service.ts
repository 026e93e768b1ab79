/**
 * `POST /uploads` as a use case: the bytes of one attachment, streamed to
 * the upload store under the caller's API key, refused as soon as they
 * pass the largest attachment a 35 MiB message can carry (or the length
 * the client declared), and checked against the client's SHA-256 when it
 * sent one. A refused upload keeps nothing.
 */
import { badRequest, ServiceError } from '../../domain/errors.ts'
import type { UploadStore } from '../../domain/upload-ports.ts'
import { limitedChunks } from '../../domain/uploads/chunks.ts'
import { MAX_UPLOAD_BYTES, type UploadReceipt } from '../../domain/uploads/upload.ts'
import type { StorageGuard } from '../storage-guard.ts'

export interface UploadRequest {
  /** The id of the API key uploading; only it may use the upload. */
  apiKeyId: string
  body: AsyncIterable<Uint8Array>
  /** The length the client declared (Content-Length), if any. */
  declaredSize?: number
  /** The SHA-256 the client computed (lower-case hex), if any. */
  expectedSha256?: string
}

export interface UploadService {
  receive(request: UploadRequest): Promise<UploadReceipt>
  /** The largest upload taken, in bytes. */
  readonly maxBytes: number
}

export interface UploadServiceDeps {
  store: UploadStore
  newUploadId: () => string
  /** How long an upload no message used is kept. */
  ttlMs: number
  /** lowdb mode's free-space margin: below it uploads are refused too. */
  storage?: Pick<StorageGuard, 'assertRoomForNewMail' | 'writeFailed'>
  /** Default `MAX_UPLOAD_BYTES`. */
  maxBytes?: number
}

export function createUploadService(deps: UploadServiceDeps): UploadService {
  const maxBytes = deps.maxBytes ?? MAX_UPLOAD_BYTES
  const tooLarge = () =>
    new ServiceError(
      'PAYLOAD_TOO_LARGE',
      `An upload may hold at most ${maxBytes} bytes: the largest attachment a 35 MiB message carries once base64-encoded`,
    )
  return {
    maxBytes,
    async receive(request) {
      const { declaredSize } = request
      if (declaredSize !== undefined && declaredSize > maxBytes) throw tooLarge()
      await deps.storage?.assertRoomForNewMail()
      const limit = declaredSize ?? maxBytes
      const overDeclared = () =>
        badRequest(`The upload is longer than the ${declaredSize} bytes its Content-Length declared`)
      const chunks = limitedChunks(request.body, limit, declaredSize === undefined ? tooLarge : overDeclared)
      const receipt = await deps.store
        .put({ uploadId: deps.newUploadId(), apiKeyId: request.apiKeyId, chunks, ttlMs: deps.ttlMs })
        .catch((caught: unknown) => {
          if (caught instanceof ServiceError && caught.code.startsWith('STORAGE')) deps.storage?.writeFailed()
          throw caught
        })
      const refusal =
        declaredSize !== undefined && receipt.size !== declaredSize
          ? `The upload has ${receipt.size} bytes, not the ${declaredSize} its Content-Length declared; nothing was kept`
          : request.expectedSha256 !== undefined && receipt.sha256 !== request.expectedSha256
            ? `The upload's SHA-256 is ${receipt.sha256}, not the one its Content-Digest gave; nothing was kept`
            : undefined
      if (refusal !== undefined) {
        await deps.store.remove([receipt.uploadId])
        throw badRequest(refusal)
      }
      return receipt
    },
  }
}
