/**
 * The gate of `/trpc`: the caller's API key and rate budget are checked
 * from the headers alone, before the body is read, so that a request
 * without a valid key (or over its budget) costs the service no more than
 * its headers.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { RateLimiter } from '../../../app/rate-limit.ts'
import { type ApiKeyCheck, bearerToken } from '../secrets.ts'
import type { Caller } from './context.ts'
import { trpcEdgeError } from './edge-errors.ts'

const callers = new WeakMap<Context, Caller>()

/** The caller the gate admitted for this request. */
export function callerOf(c: Context): Caller | undefined {
  return callers.get(c)
}

export function apiKeyGate(deps: { apiKeys: ApiKeyCheck; rateLimiter: RateLimiter }): MiddlewareHandler {
  return async (c, next) => {
    const presented = bearerToken(c.req.header('Authorization'))
    const keyId = presented === undefined ? undefined : await deps.apiKeys.verify(presented)
    if (keyId === undefined) {
      return trpcEdgeError(c, {
        code: 'UNAUTHORIZED',
        httpStatus: 401,
        message:
          presented === undefined
            ? 'An API key is required: send Authorization: Bearer <key>'
            : 'The API key is not valid',
      })
    }
    const waitMs = deps.rateLimiter.take(keyId)
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000))
      return trpcEdgeError(c, {
        code: 'TOO_MANY_REQUESTS',
        httpStatus: 429,
        message: `Too many requests for this API key; retry in ${seconds} s`,
        retryAfterMs: waitMs,
      })
    }
    callers.set(c, { keyId })
    return next()
  }
}
