/**
 * `POST /uploads`: the raw bytes of one attachment as the request body (any
 * Content-Type), streamed to storage, never held whole; answers `201
 * { uploadId, size, sha256, expiresAt }`, for `attachments: [{ filename,
 * uploadId }]` of `mail.send`. The caller is checked as on `/trpc`, from
 * the headers alone before the body is read (`upload-gate.ts`): an API key
 * that may call `mail.send`. Optional checks: `Content-Length` (a body of
 * another length is refused) and `Content-Digest: sha-256=:<base64>:`
 * (RFC 9530; a body with another SHA-256 is refused, nothing kept).
 * Refusals are `{ error: { code, message } }`: 400, 401, 403, 413 (as soon
 * as the body passes the largest attachment a 35 MiB message carries), 429,
 * 503 (with Retry-After).
 */
import type { Context } from 'hono'
import { Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { UploadService } from '../../app/uploads/upload-service.ts'
import { type ErrorCode, isServiceError, ServiceError } from '../../domain/errors.ts'
import { decodeBase64Strict } from '../../domain/mime/base64.ts'
import { admitUploader, type UploadGateDeps, uploadRefusal } from './upload-gate.ts'

export interface UploadRouteDeps extends UploadGateDeps {
  uploads: UploadService
}

/** What is read and dropped after a refusal, so that the client hears the answer rather than a reset. */
const DRAIN_CEILING = 64 * 1024 * 1024

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  STORAGE_FULL: 503,
  SERVICE_UNAVAILABLE: 503,
  STORAGE: 500,
}

export function uploadRoutes(deps: UploadRouteDeps): Hono {
  const app = new Hono()
  app.post('/uploads', async (c) => {
    const admitted = await admitUploader(deps, c)
    if (admitted instanceof Response) return admitted
    const reader = c.req.raw.body?.getReader()
    const headers = readHeaders(c)
    if (typeof headers === 'string') return refuse(c, reader, 'BAD_REQUEST', 400, headers)
    if (headers.declaredSize !== undefined && headers.declaredSize > deps.uploads.maxBytes) {
      // Refused unread: the client learns at once, and the connection closes rather than take the rest.
      c.header('Connection', 'close')
      return uploadRefusal(c, {
        code: 'PAYLOAD_TOO_LARGE',
        status: 413,
        message: `An upload may hold at most ${deps.uploads.maxBytes} bytes; Content-Length declares ${headers.declaredSize}`,
      })
    }
    try {
      const receipt = await deps.uploads.receive({
        apiKeyId: admitted.keyId,
        body: chunksOf(reader),
        ...headers,
      })
      return c.json({ ...receipt, expiresAt: new Date(receipt.expiresAt).toISOString() }, 201)
    } catch (error) {
      if (!isServiceError(error)) throw error
      const status = STATUS[error.code]
      if (status === undefined) throw error
      if (error.retryAfterMs !== undefined)
        c.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))))
      const message = error.code === 'STORAGE' ? 'The upload could not be stored; retry later' : error.message
      return refuse(c, reader, error.code, status, message)
    }
  })
  return app
}

/** Content-Length and Content-Digest, checked; a sentence when one is malformed. */
function readHeaders(c: Context): { declaredSize?: number; expectedSha256?: string } | string {
  const found: { declaredSize?: number; expectedSha256?: string } = {}
  const length = c.req.header('Content-Length')
  if (length !== undefined) {
    if (!/^\d{1,15}$/.test(length.trim())) return 'Content-Length must be a number of bytes'
    found.declaredSize = Number(length.trim())
  }
  const digest = c.req.header('Content-Digest')
  if (digest !== undefined) {
    const sha256 = sha256OfContentDigest(digest)
    if (sha256 === undefined)
      return 'Content-Digest must carry sha-256=:<base64 of the 32-byte SHA-256>: (RFC 9530)'
    found.expectedSha256 = sha256
  }
  return found
}

/** The hex SHA-256 of an RFC 9530 `Content-Digest` (a dictionary; other algorithms are ignored). */
export function sha256OfContentDigest(header: string): string | undefined {
  for (const member of header.split(',')) {
    const match = /^\s*sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):\s*$/i.exec(member)
    const bytes = match === null ? undefined : decodeBase64Strict(match[1]!, 'base64')
    if (bytes?.byteLength === 32)
      return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
  }
  return undefined
}

/** The body's chunks; stopping early leaves the rest unread (for `drain`), not canceled. */
async function* chunksOf(
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
): AsyncGenerator<Uint8Array> {
  if (reader === undefined) return
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>
    try {
      read = await reader.read()
    } catch (cause) {
      // The client went away mid-upload: a refusal (nothing kept), not an internal error.
      throw new ServiceError('BAD_REQUEST', 'The upload was cut off before its end; nothing was kept', {
        cause,
      })
    }
    if (read.done) return
    yield read.value
  }
}

/** Reads and drops what is left of the body (up to a ceiling, then cancels), then answers. */
async function refuse(
  c: Context,
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined,
  code: string,
  status: ContentfulStatusCode,
  message: string,
): Promise<Response> {
  if (reader !== undefined) {
    let dropped = 0
    try {
      while (dropped <= DRAIN_CEILING) {
        const { done, value } = await reader.read()
        if (done) break
        dropped += value.byteLength
      }
      if (dropped > DRAIN_CEILING) await reader.cancel()
    } catch {
      // The client went away: nobody hears the answer anyway.
    }
  }
  return uploadRefusal(c, { code, status, message })
}
