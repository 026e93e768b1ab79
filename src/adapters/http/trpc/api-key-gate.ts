/**
 * The gate of `/trpc`, from the headers alone, before the body is read:
 * the batch cap, the client address's failed authentications (before any
 * key is hashed), the caller's API key, and its rate budget, charged one
 * unit per procedure call. A request refused here costs the service no more
 * than its headers, and gets one short answer.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { isServiceError } from '../../../domain/errors.ts'
import type { RequestBudget } from '../../../domain/ports.ts'
import { attemptOf, refused, type ThrottleDeps, throttledMessage } from '../auth-throttle.ts'
import { type ApiKeyCheck, bearerToken } from '../secrets.ts'
import type { Caller } from './context.ts'
import { procedureCallCount, trpcEdgeError } from './edge-errors.ts'
import { MAX_BATCH_SIZE } from './limits.ts'

const callers = new WeakMap<Context, Caller>()

/** The caller the gate admitted for this request. */
export function callerOf(c: Context): Caller | undefined {
  return callers.get(c)
}

export function apiKeyGate(
  deps: ThrottleDeps & { apiKeys: ApiKeyCheck; requestBudget: RequestBudget },
): MiddlewareHandler {
  return async (c, next) => {
    const { calls } = procedureCallCount(new URL(c.req.url))
    if (calls > MAX_BATCH_SIZE) {
      return trpcEdgeError(c, {
        code: 'BAD_REQUEST',
        httpStatus: 400,
        message: `A batch may carry at most ${MAX_BATCH_SIZE} procedure calls; this one names ${calls}`,
      })
    }
    const presented = bearerToken(c.req.header('Authorization'))
    if (presented === undefined) {
      return trpcEdgeError(c, {
        code: 'UNAUTHORIZED',
        httpStatus: 401,
        message: 'An API key is required: send Authorization: Bearer <key>',
      })
    }
    const attempt = attemptOf(deps, c)
    if (attempt.waitMs > 0) {
      return trpcEdgeError(c, {
        code: 'TOO_MANY_REQUESTS',
        httpStatus: 429,
        message: throttledMessage(attempt.waitMs),
        retryAfterMs: attempt.waitMs,
      })
    }
    const keyId = await deps.apiKeys.verify(presented)
    if (keyId === undefined) {
      refused(deps, attempt.address, 'API key refused')
      return trpcEdgeError(c, { code: 'UNAUTHORIZED', httpStatus: 401, message: 'The API key is not valid' })
    }
    let waitMs: number
    try {
      waitMs = await deps.requestBudget.take(keyId, calls)
    } catch (error) {
      // PostgreSQL mode with the database away: a clear 503, not an internal error.
      if (!isServiceError(error) || error.code !== 'SERVICE_UNAVAILABLE') throw error
      return trpcEdgeError(c, {
        code: 'SERVICE_UNAVAILABLE',
        httpStatus: 503,
        message: error.message,
        retryAfterMs: error.retryAfterMs ?? 5_000,
        perCall: true,
      })
    }
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000))
      return trpcEdgeError(c, {
        code: 'TOO_MANY_REQUESTS',
        httpStatus: 429,
        message: `Too many requests for this API key; retry in ${seconds} s`,
        retryAfterMs: waitMs,
        perCall: true,
      })
    }
    callers.set(c, { keyId, chargeMessages: (extra) => deps.requestBudget.extend(keyId, extra, calls) })
    return next()
  }
}
