/**
 * Who may call `POST /uploads`, from the headers alone: the same rules as
 * the `/trpc` gate for one `mail.send` (an upload is only ever used by
 * one): the client address's failed authentications first, then an API
 * key (the admin token is refused), its scope (`Origin`, and `mail.send`
 * among its procedures), and one unit of its rate budget.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { originRefusal, procedureRefusal } from '../../domain/api-keys/scope.ts'
import { isServiceError } from '../../domain/errors.ts'
import type { BudgetLimits, RequestBudget } from '../../domain/ports.ts'
import {
  attemptOf,
  refused,
  retryAfterSeconds,
  type ThrottleDeps,
  throttledMessage,
} from './auth-throttle.ts'
import { type ApiKeyCheck, bearerToken, constantTimeEqual, sha256Hex } from './secrets.ts'

export interface UploadGateDeps extends ThrottleDeps {
  apiKeys: ApiKeyCheck
  requestBudget: RequestBudget
  adminToken: string
}

/** The procedure an upload serves: a key must be allowed to call it. */
const SERVED_PROCEDURE = 'mail.send'

export interface Refusal {
  code: string
  status: ContentfulStatusCode
  message: string
  retryAfterMs?: number
}

/** `{ error: { code, message } }` with its status (and Retry-After). */
export function uploadRefusal(c: Context, refusal: Refusal): Response {
  if (refusal.retryAfterMs !== undefined)
    c.header('Retry-After', String(retryAfterSeconds(refusal.retryAfterMs)))
  return c.json({ error: { code: refusal.code, message: refusal.message } }, refusal.status)
}

/** The admitted key's id, or the answer refusing the request. */
export async function admitUploader(deps: UploadGateDeps, c: Context): Promise<{ keyId: string } | Response> {
  const refuse = (refusal: Refusal) => uploadRefusal(c, refusal)
  const presented = bearerToken(c.req.header('Authorization'))
  if (presented === undefined) {
    return refuse({
      code: 'UNAUTHORIZED',
      status: 401,
      message: 'An API key is required: send Authorization: Bearer <key>',
    })
  }
  const attempt = attemptOf(deps, c)
  if (attempt.waitMs > 0) {
    return refuse({
      code: 'TOO_MANY_REQUESTS',
      status: 429,
      message: throttledMessage(attempt.waitMs),
      retryAfterMs: attempt.waitMs,
    })
  }
  const digest = await sha256Hex(presented)
  if (constantTimeEqual(digest, await sha256Hex(deps.adminToken))) {
    return refuse({
      code: 'UNAUTHORIZED',
      status: 401,
      message: 'The admin token is for admin.* procedures only; POST /uploads needs an API key',
    })
  }
  let key: Awaited<ReturnType<ApiKeyCheck['verifyDigest']>>
  try {
    key = await deps.apiKeys.verifyDigest(digest)
  } catch (error) {
    return refuse(unavailable(error))
  }
  if (key === undefined) {
    refused(deps, attempt.address, 'API key refused')
    return refuse({ code: 'UNAUTHORIZED', status: 401, message: 'The API key is not valid' })
  }
  const scopeRefusal =
    originRefusal(key.scope, c.req.header('Origin') || undefined) ??
    procedureRefusal(key.scope, SERVED_PROCEDURE)
  if (scopeRefusal !== undefined) {
    return refuse({
      code: 'FORBIDDEN',
      status: 403,
      message: `${scopeRefusal} (POST /uploads serves mail.send)`,
    })
  }
  const own: BudgetLimits | undefined =
    key.scope.ratePerMinute === undefined ? undefined : { perMinute: key.scope.ratePerMinute }
  let waitMs: number
  try {
    waitMs = await deps.requestBudget.take(key.id, 1, own)
  } catch (error) {
    return refuse(unavailable(error))
  }
  if (waitMs > 0) {
    return refuse({
      code: 'TOO_MANY_REQUESTS',
      status: 429,
      message: `Too many requests for this API key; retry in ${retryAfterSeconds(waitMs)} s`,
      retryAfterMs: waitMs,
    })
  }
  return { keyId: key.id }
}

/** The database away (PostgreSQL mode): 503 with when to retry; anything else rethrown. */
function unavailable(error: unknown): Refusal {
  if (!isServiceError(error) || error.code !== 'SERVICE_UNAVAILABLE') throw error
  return {
    code: 'SERVICE_UNAVAILABLE',
    status: 503,
    message: error.message,
    retryAfterMs: error.retryAfterMs ?? 5_000,
  }
}
