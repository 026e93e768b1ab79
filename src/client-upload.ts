/**
 * `POST /uploads` for TypeScript programs: streams one attachment's bytes to
 * the service and gives back its `uploadId`, to name in `mail.send`'s
 * `attachments: [{ filename, uploadId }]`. The body may be a `Blob` (a
 * browser's `File`), bytes, or a `ReadableStream` (sent as it is read, never
 * held whole). A refusal throws an `UploadError` with the service's code.
 *
 * ```ts
 * const { uploadId } = await uploadAttachment({ url: 'http://localhost:3000', apiKey, body: file })
 * await mail.mail.send.mutate({ to, subject, text, attachments: [{ filename: file.name, uploadId }] })
 * ```
 */

export interface UploadedAttachment {
  uploadId: string
  size: number
  /** SHA-256 of the bytes stored, lower-case hex. */
  sha256: string
  /** ISO 8601: when the upload is deleted if no message used it. */
  expiresAt: string
}

export interface UploadAttachmentOptions {
  /** The service's base URL, e.g. `http://localhost:3000` (not the `/trpc` endpoint). */
  url: string
  apiKey: string
  body: Blob | Uint8Array | ReadableStream<Uint8Array>
  /** The bytes' SHA-256 (32 bytes or 64 hex digits): the service refuses other bytes, keeping nothing. */
  sha256?: Uint8Array | string
  fetch?: typeof fetch
}

export class UploadError extends Error {
  readonly code: string
  readonly status: number
  constructor(code: string, status: number, message: string) {
    super(message)
    this.name = 'UploadError'
    this.code = code
    this.status = status
  }
}

export async function uploadAttachment(options: UploadAttachmentOptions): Promise<UploadedAttachment> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.apiKey}`,
    'Content-Type': 'application/octet-stream',
  }
  if (options.sha256 !== undefined) headers['Content-Digest'] = `sha-256=:${base64Of(options.sha256)}:`
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers, body: options.body as BodyInit }
  if (options.body instanceof ReadableStream) init.duplex = 'half'
  const response = await (options.fetch ?? fetch)(`${options.url.replace(/\/+$/, '')}/uploads`, init)
  const answer = (await response.json().catch(() => ({}))) as Partial<UploadedAttachment> & {
    error?: { code?: string; message?: string }
  }
  if (response.status !== 201 || answer.uploadId === undefined) {
    throw new UploadError(
      answer.error?.code ?? 'INTERNAL',
      response.status,
      answer.error?.message ?? `POST /uploads answered ${response.status}`,
    )
  }
  return answer as UploadedAttachment
}

function base64Of(digest: Uint8Array | string): string {
  const bytes =
    typeof digest === 'string'
      ? Uint8Array.from(digest.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16))
      : digest
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
