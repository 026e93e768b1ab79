/**
 * `users.messages.send` and its upload form, as Gmail answers them: a live
 * access token with a sending scope, the per-user quota, the message
 * checks (base64url, a recipient, 35 MiB), then `{ id, threadId, labelIds }`.
 * (developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/send)
 */
import type { Context, Hono } from 'hono'
import { bearerToken } from './bearer.ts'
import type { EmulatorContext } from './context.ts'
import { faultable } from './endpoint.ts'
import {
  jsonPayload,
  MAX_MESSAGE_BYTES,
  mediaPayload,
  multipartPayload,
  type Payload,
  tooLarge,
} from './gmail-payload.ts'
import { googleApiError, googleApiFaultResponse } from './google-errors.ts'
import { summarizeMessage } from './mime-summary.ts'
import type { AccessGrant } from './oauth-state.ts'
import { discardBody, readBody } from './request-body.ts'
import type { ReceivedMessage } from './types.ts'

export const SEND_PATH = '/gmail/v1/users/:userId/messages/send'
export const UPLOAD_PATH = '/upload/gmail/v1/users/:userId/messages/send'

/** Scopes that allow messages.send. */
const SENDING_SCOPES = new Set([
  'https://www.googleapis.com/auth/gmail.send',
  'https://www.googleapis.com/auth/gmail.compose',
  'https://www.googleapis.com/auth/gmail.modify',
  'https://mail.google.com/',
])

const PAYLOAD_READERS: Record<ReceivedMessage['via'], (body: Uint8Array, contentType: string) => Payload> = {
  json: jsonPayload,
  media: mediaPayload,
  multipart: multipartPayload,
}

/** Room for the multipart framing and JSON metadata around a message. */
const ENVELOPE_BYTES = 64 * 1024

export function mountGmailSend(app: Hono, context: EmulatorContext): void {
  app.post(
    SEND_PATH,
    faultable(context, { endpoint: 'send', renderFault: googleApiFaultResponse }, (c) =>
      send(c, context, 'json'),
    ),
  )
  app.post(
    UPLOAD_PATH,
    faultable(context, { endpoint: 'upload', renderFault: googleApiFaultResponse }, async (c) => {
      const uploadType = c.req.query('uploadType')
      if (uploadType === 'media' || uploadType === 'multipart') return send(c, context, uploadType)
      await discardBody(c.req.raw)
      const message = 'The sandbox supports uploadType=media and uploadType=multipart only.'
      return googleApiError({ status: 400, reason: 'badRequest', message })
    }),
  )
}

async function send(c: Context, context: EmulatorContext, via: ReceivedMessage['via']): Promise<Response> {
  const request = c.req.raw
  const token = bearerToken(request)
  const access = token === undefined ? undefined : context.oauth.liveAccessToken(token)
  if (access === undefined) return answerUnread(request, googleApiError({ status: 401 }))
  const refusal = refuseSender(c, context, access)
  if (refusal !== undefined) return answerUnread(request, refusal)

  const limit =
    via === 'json'
      ? Math.ceil((MAX_MESSAGE_BYTES * 4) / 3) + ENVELOPE_BYTES
      : MAX_MESSAGE_BYTES + ENVELOPE_BYTES
  const body = await readBody(request, limit)
  const contentType = request.headers.get('content-type') ?? ''
  const payload = body.ok ? PAYLOAD_READERS[via](body.bytes, contentType) : tooLarge()
  if (!payload.ok) {
    const reason = payload.status === 413 ? 'uploadTooLarge' : 'invalidArgument'
    return googleApiError({ status: payload.status, reason, message: payload.message })
  }
  const summary = summarizeMessage(payload.raw)
  if (summary.recipients.length === 0) {
    return googleApiError({ status: 400, reason: 'invalidArgument', message: 'Recipient address required' })
  }
  const message = context.mailbox.deliver(
    {
      account: access.email,
      raw: compact(payload.raw),
      via,
      receivedAt: context.now(),
      ...(payload.threadId === undefined ? {} : { threadId: payload.threadId }),
    },
    summary,
  )
  return c.json({ id: message.id, threadId: message.threadId, labelIds: ['SENT'] })
}

/** Why this token may not send now (mailbox, scope, quota), or `undefined` when it may. */
function refuseSender(c: Context, context: EmulatorContext, access: AccessGrant): Response | undefined {
  const userId = c.req.param('userId') ?? ''
  if (userId !== 'me' && userId.toLowerCase() !== access.email) {
    return googleApiError({ status: 403, reason: 'forbidden', message: `Delegation denied for ${userId}` })
  }
  if (!access.scopes.some((scope) => SENDING_SCOPES.has(scope))) {
    return googleApiError({ status: 403, reason: 'insufficientPermissions' })
  }
  const quota = context.quota.admit(access.email)
  if (quota.admitted) return undefined
  context.stats.rateLimited++
  return googleApiError({
    status: 429,
    reason: 'userRateLimitExceeded',
    message: `User-rate limit exceeded.  Retry after ${new Date(quota.retryAt).toISOString()}`,
    retryAfterSeconds: quota.retryAfterSeconds,
  })
}

/** Answers before reading the body, reading it anyway so the client is not cut off mid-upload. */
async function answerUnread(request: Request, response: Response): Promise<Response> {
  await discardBody(request)
  return response
}

/** A multipart message is a view into the whole body: keep only its bytes. */
function compact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}
