/**
 * The three shapes of a `users.messages.send` request, reduced to the raw
 * message and the optional thread: JSON `{ raw, threadId }` (raw in
 * base64url), a media upload (the message itself) and a multipart upload
 * (JSON metadata, then the message).
 * (developers.google.com/workspace/gmail/api/guides/uploads)
 */
import { decodeBase64Strict } from '../domain/mime/base64.ts'
import { multipartBoundary, parseMultipart } from './multipart.ts'

/** The discovery document's `maxSize` for messages.send: 35 MiB. */
export const MAX_MESSAGE_BYTES = 36_700_160

export type Payload =
  | { ok: true; raw: Uint8Array; threadId?: string }
  | { ok: false; status: number; message: string }

const RAW_REQUIRED = "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
const MESSAGE_FIELDS = new Set([
  'id',
  'threadId',
  'labelIds',
  'snippet',
  'historyId',
  'internalDate',
  'payload',
  'sizeEstimate',
  'raw',
])

const refuse = (message: string, status = 400): Payload => ({ ok: false, status, message })

/** A `Message` resource sent as JSON. */
export function jsonPayload(body: Uint8Array, contentType: string): Payload {
  if (!/^application\/json\s*(;|$)/i.test(contentType)) return refuse('Invalid JSON payload received.')
  const metadata = readMetadata(body)
  if (!metadata.ok) return metadata
  const { raw, threadId } = metadata.fields
  if (typeof raw !== 'string' || raw === '') return refuse(RAW_REQUIRED)
  const bytes = decodeBase64Strict(raw, 'base64url')
  if (bytes === undefined) return refuse('Invalid value for ByteString')
  return withThread(bytes, threadId)
}

/** `uploadType=media`: the body is the message. */
export function mediaPayload(body: Uint8Array, contentType: string): Payload {
  if (!isMessageType(contentType)) return unsupportedMedia(contentType)
  return withThread(body, undefined)
}

/** `uploadType=multipart`: a JSON part (metadata), then a message part. */
export function multipartPayload(body: Uint8Array, contentType: string): Payload {
  const boundary = /^multipart\/related\s*;/i.test(contentType) ? multipartBoundary(contentType) : undefined
  if (boundary === undefined) return refuse('Multipart uploads must be multipart/related with a boundary.')
  const parts = parseMultipart(body, boundary)
  if (parts === undefined || parts.length !== 2) {
    return refuse(`Invalid multipart request with ${parts?.length ?? 0} mime parts.`)
  }
  const [metadataPart, mediaPart] = parts as [(typeof parts)[0], (typeof parts)[0]]
  const metadataType = metadataPart.headers.get('content-type') ?? ''
  if (!/^application\/json\s*(;|$)/i.test(metadataType))
    return refuse('The first part must be JSON metadata.')
  const metadata = readMetadata(metadataPart.body)
  if (!metadata.ok) return metadata
  const mediaType = mediaPart.headers.get('content-type') ?? ''
  if (!isMessageType(mediaType)) return unsupportedMedia(mediaType)
  return withThread(mediaPart.body, metadata.fields.threadId)
}

function readMetadata(
  body: Uint8Array,
): { ok: true; fields: Record<string, unknown> } | Extract<Payload, { ok: false }> {
  let parsed: unknown
  try {
    parsed = body.length === 0 ? {} : JSON.parse(new TextDecoder().decode(body))
  } catch {
    return { ok: false, status: 400, message: 'Invalid JSON payload received. Unexpected token.' }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, status: 400, message: 'Invalid JSON payload received. Expected an object.' }
  }
  const unknown = Object.keys(parsed).find((name) => !MESSAGE_FIELDS.has(name))
  if (unknown !== undefined) {
    return {
      ok: false,
      status: 400,
      message: `Invalid JSON payload received. Unknown name "${unknown.slice(0, 64)}": Cannot find field.`,
    }
  }
  return { ok: true, fields: parsed as Record<string, unknown> }
}

function withThread(raw: Uint8Array, threadId: unknown): Payload {
  if (raw.byteLength > MAX_MESSAGE_BYTES) return tooLarge()
  if (threadId === undefined || threadId === null || threadId === '') return { ok: true, raw }
  if (typeof threadId !== 'string') return refuse("Invalid value at 'message.thread_id': expected a string.")
  return { ok: true, raw, threadId }
}

export function tooLarge(): Payload {
  return refuse(`Request payload size exceeds the limit: ${MAX_MESSAGE_BYTES} bytes.`, 413)
}

function isMessageType(contentType: string): boolean {
  return /^message\/[a-z0-9.+-]+\s*(;|$)/i.test(contentType)
}

function unsupportedMedia(contentType: string): Payload {
  const type = contentType.split(';')[0]!.trim().slice(0, 100)
  return refuse(`Media type '${type}' is not supported. Valid media types: [message/*]`)
}
