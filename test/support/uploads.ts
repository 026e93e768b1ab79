/**
 * `POST /uploads` as a client program would call it: the bytes streamed as
 * the request body (chunks of 64 KiB, no Content-Length unless asked), with
 * `Content-Digest` when asked. Shared by the end-to-end tests.
 */
import { createHash } from 'node:crypto'

export interface UploadAnswer {
  status: number
  body: {
    uploadId?: string
    size?: number
    sha256?: string
    expiresAt?: string
    error?: { code: string; message: string }
  }
}

export function contentDigest(bytes: Uint8Array): string {
  return `sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`
}

/** Pseudo-random bytes (xorshift), the same for a seed. */
export function randomBytes(length: number, seed = 17): Uint8Array {
  const bytes = new Uint8Array(length)
  let state = seed | 1
  for (let i = 0; i < length; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    bytes[i] = state & 255
  }
  return bytes
}

export async function postUpload(
  baseUrl: string,
  apiKey: string | undefined,
  bytes: Uint8Array,
  options: { digest?: string; contentLength?: number; headers?: Record<string, string> } = {},
): Promise<UploadAnswer> {
  let at = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.slice(at, at + 65_536))
      at += 65_536
    },
  })
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', ...options.headers }
  if (apiKey !== undefined) headers.Authorization = `Bearer ${apiKey}`
  if (options.digest !== undefined) headers['Content-Digest'] = options.digest
  if (options.contentLength !== undefined) headers['Content-Length'] = String(options.contentLength)
  const response = await fetch(`${baseUrl}/uploads`, {
    method: 'POST',
    headers,
    body,
    duplex: 'half',
  } as RequestInit)
  return { status: response.status, body: (await response.json()) as UploadAnswer['body'] }
}
