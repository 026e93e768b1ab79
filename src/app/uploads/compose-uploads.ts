/**
 * Composing a message whose attachments are uploads: each upload is
 * claimed for the message (the caller's key only, unexpired, once), the
 * message planned (`domain/mime/message-plan.ts`) so that its length,
 * uploads counted, is checked against 35 MiB before anything is read, and
 * then either composed in memory (under `LARGE_BODY_MIN_BYTES`: it is
 * stored like any message) or written as it is composed into the
 * large-body store, uploads read a chunk at a time, so that memory stays
 * constant. The claims are consumed once the message is accepted, or given
 * back when it is not (`concludeUploads`).
 */

import { concatBytes } from '../../domain/bytes.ts'
import { badRequest, type FieldIssue, ServiceError } from '../../domain/errors.ts'
import { IDEMPOTENCY_WINDOW_MS, namespacedKey } from '../../domain/mail/idempotency.ts'
import { type CompositionContext, MAX_MESSAGE_BYTES, type Mail } from '../../domain/mail/message.ts'
import { composeMessage } from '../../domain/mime/compose.ts'
import { planChunks, planMessage } from '../../domain/mime/message-plan.ts'
import type { OutboxRepository } from '../../domain/ports.ts'
import type { LargeBodyStore, UploadStore } from '../../domain/upload-ports.ts'
import { LARGE_BODY_MIN_BYTES, unavailableUploadMessage } from '../../domain/uploads/upload.ts'
import { sha256Hex } from '../input-hash.ts'

/** The two stores a message composed from uploads needs. */
export interface MessageUploads {
  store: UploadStore
  bodies: LargeBodyStore
}

/** What a composition from uploads leaves to settle once acceptance is decided. */
export interface UploadUse {
  /** The uploads claimed for the message. */
  uploadIds: string[]
  /** Its body is in the large-body store, under the message's id. */
  large: boolean
}

export interface ComposedFromUploads {
  /** The whole message when composed in memory; empty when it is in the large-body store. */
  raw: Uint8Array
  size: number
  sha256: string
  use: UploadUse
}

export function hasUploads(mail: Mail): boolean {
  return mail.attachments.some((attachment) => attachment.upload !== undefined)
}

export interface UploadComposition {
  uploads: MessageUploads | undefined
  outbox: Pick<OutboxRepository, 'findByIdempotencyKey'>
  now: number
  messageId: string
  /** The caller's API key: only its uploads may be used. */
  apiKeyId: string | undefined
  /** The idempotency key as stored (in the key's namespace), if the call has one. */
  idempotencyKey: string | undefined
}

export async function composeWithUploads(
  mail: Mail,
  context: CompositionContext,
  request: UploadComposition,
): Promise<ComposedFromUploads> {
  const { uploads } = request
  if (uploads === undefined || request.apiKeyId === undefined) {
    throw badRequest('Uploads can be used only by the API key that made them', [
      { path: 'attachments', message: 'No API key made these uploads' },
    ])
  }
  const claimed = await claimAll(mail, uploads.store, request)
  if (claimed === 'replay')
    return { raw: new Uint8Array(0), size: 0, sha256: '', use: { uploadIds: [], large: false } }
  const uploadIds = [...claimed.keys()]
  const use: UploadUse = { uploadIds, large: false }
  try {
    const sizes = new Map([...claimed].map(([id, upload]) => [id, upload.size]))
    const plan = planMessage(mail, context, sizes)
    if (plan.size > MAX_MESSAGE_BYTES) {
      throw new ServiceError(
        'PAYLOAD_TOO_LARGE',
        `The composed message is ${plan.size} bytes with its uploads; Gmail takes at most ${MAX_MESSAGE_BYTES} bytes (35 MiB)`,
      )
    }
    if (plan.size < LARGE_BODY_MIN_BYTES) {
      const raw = composeMessage(await withUploadBytes(mail, uploads.store), context)
      return { raw, size: raw.byteLength, sha256: await sha256Hex(raw), use }
    }
    const read = (uploadId: string) => uploads.store.read(uploadId)
    use.large = true
    const written = await uploads.bodies.write(request.messageId, planChunks(plan, read)).catch((caught) => {
      use.large = false
      throw caught
    })
    if (written.size !== plan.size)
      throw new ServiceError('INTERNAL', 'The message composed from uploads has an unexpected length')
    return { raw: new Uint8Array(0), size: written.size, sha256: written.sha256, use }
  } catch (caught) {
    await discardUse(uploads, request.messageId, use, { keepBody: false })
    throw caught
  }
}

/**
 * Claims every upload of `mail` (each once, however often it is attached).
 * When one cannot be had and the call repeats an accepted one (same
 * idempotency key), `replay`: the store gives that message back (or
 * refuses a changed input), so a retried call is answered though its
 * uploads were used. Otherwise one BAD_REQUEST names every upload refused.
 */
async function claimAll(
  mail: Mail,
  store: UploadStore,
  request: UploadComposition,
): Promise<Map<string, { size: number }> | 'replay'> {
  const claimed = new Map<string, { size: number }>()
  const issues: FieldIssue[] = []
  const asked = new Set<string>()
  for (const [index, attachment] of mail.attachments.entries()) {
    const uploadId = attachment.upload?.uploadId
    if (uploadId === undefined || asked.has(uploadId)) continue
    asked.add(uploadId)
    const upload = await store.claim({ uploadId, apiKeyId: request.apiKeyId!, messageId: request.messageId })
    if (upload === undefined)
      issues.push({ path: `attachments.${index}.uploadId`, message: unavailableUploadMessage(uploadId) })
    else claimed.set(uploadId, upload)
  }
  if (issues.length === 0) return claimed
  await discardUse(
    { store },
    request.messageId,
    { uploadIds: [...claimed.keys()], large: false },
    { keepBody: true },
  )
  if (request.idempotencyKey !== undefined) {
    const earlier = await request.outbox.findByIdempotencyKey(
      request.idempotencyKey,
      request.now - IDEMPOTENCY_WINDOW_MS,
    )
    if (earlier !== undefined) return 'replay'
  }
  const first = issues[0]!
  throw badRequest(
    issues.length === 1 ? `Invalid ${first.path}: ${first.message}` : 'Some uploads cannot be used',
    issues,
  )
}

/** `mail` with every upload's bytes read in (for a message small enough to compose in memory). */
async function withUploadBytes(mail: Mail, store: UploadStore): Promise<Mail> {
  const bytes = new Map<string, Uint8Array>()
  const attachments = []
  for (const attachment of mail.attachments) {
    const { upload, ...rest } = attachment
    if (upload === undefined) {
      attachments.push(attachment)
      continue
    }
    let content = bytes.get(upload.uploadId)
    if (content === undefined) {
      const chunks: Uint8Array[] = []
      for await (const chunk of store.read(upload.uploadId)) chunks.push(chunk)
      content = concatBytes(chunks)
      bytes.set(upload.uploadId, content)
    }
    attachments.push({ ...rest, content })
  }
  return { ...mail, attachments }
}

/**
 * Gives a message's claims back and, unless `keepBody` (acceptance may
 * have stored it: the janitor decides once its fate is known), removes its
 * large body. Best effort: what is left behind expires.
 */
export async function discardUse(
  uploads: Pick<MessageUploads, 'store'> & Partial<Pick<MessageUploads, 'bodies'>>,
  messageId: string,
  use: UploadUse,
  options: { keepBody: boolean },
): Promise<void> {
  await Promise.all(
    use.uploadIds.map((uploadId) => uploads.store.release({ uploadId, messageId }).catch(() => undefined)),
  )
  if (use.large && !options.keepBody) await uploads.bodies?.remove([messageId]).catch(() => undefined)
}

/** The composition's request for `input` of `caller` (its key, and its idempotency key as stored). */
export function uploadComposition(
  input: { idempotencyKey?: string | undefined },
  deps: { uploads?: MessageUploads; outbox?: Pick<OutboxRepository, 'findByIdempotencyKey'> },
  message: { now: number; id: string; caller: { keyId: string } | undefined },
): UploadComposition {
  const { caller } = message
  const key = input.idempotencyKey
  return {
    uploads: deps.uploads,
    outbox: deps.outbox ?? { findByIdempotencyKey: async () => undefined },
    now: message.now,
    messageId: message.id,
    apiKeyId: caller?.keyId,
    idempotencyKey: key === undefined || caller === undefined ? key : namespacedKey(caller.keyId, key),
  }
}
