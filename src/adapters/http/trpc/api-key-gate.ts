/**
 * The gate of `/trpc`, from the headers alone, before the body is read:
 * the batch cap, the client address's failed authentications (before any
 * secret is hashed), who is calling (the admin token, for `admin.*` only;
 * an API key, never for `admin.*`), the key's scope (every procedure path
 * of a batch, and the `Origin`), and its rate budget (its own rate when its
 * scope has one), charged one unit per procedure call. A request refused
 * here costs the service no more than its headers, and gets one short answer.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { KeyScope } from '../../../domain/api-keys/api-key.ts'
import { originRefusal, procedureRefusal } from '../../../domain/api-keys/scope.ts'
import { isServiceError } from '../../../domain/errors.ts'
import type { BudgetLimits, RequestBudget } from '../../../domain/ports.ts'
import { attemptOf, refused, type ThrottleDeps, throttledMessage } from '../auth-throttle.ts'
import { type ApiKeyCheck, bearerToken, constantTimeEqual, sha256Hex } from '../secrets.ts'
import type { Caller } from './context.ts'
import { type EdgeError, procedureCallCount, procedurePaths, trpcEdgeError } from './edge-errors.ts'
import { MAX_BATCH_SIZE } from './limits.ts'

const callers = new WeakMap<Context, Caller>()

/** The caller the gate admitted for this request. */
export function callerOf(c: Context): Caller | undefined {
  return callers.get(c)
}

const ADMIN_PREFIX = 'admin.'

/** The database away (PostgreSQL mode): a clear 503, not an internal error; anything else rethrown. */
function unavailable(error: unknown): EdgeError {
  if (!isServiceError(error) || error.code !== 'SERVICE_UNAVAILABLE') throw error
  return {
    code: 'SERVICE_UNAVAILABLE',
    httpStatus: 503,
    message: error.message,
    retryAfterMs: error.retryAfterMs ?? 5_000,
    perCall: true,
  }
}

/**
 * Why a key with `scope` may not make this request (its Origin, its paths),
 * or undefined. Each call of a refused batch is told its own reason; a call
 * the key may make is told that the batch was refused whole for another.
 */
function scopeRefusal(
  scope: KeyScope,
  paths: readonly string[],
  origin: string | undefined,
): EdgeError | undefined {
  const forbidden = { code: 'FORBIDDEN', httpStatus: 403, perCall: true } as const
  const byOrigin = originRefusal(scope, origin)
  if (byOrigin !== undefined) return { ...forbidden, message: byOrigin }
  const refused = paths.find((path) => procedureRefusal(scope, path) !== undefined)
  if (refused === undefined) return undefined
  const message = procedureRefusal(scope, refused)!
  return {
    ...forbidden,
    message,
    messageFor: (path) =>
      procedureRefusal(scope, path) ?? `The batch was refused whole, nothing done: ${message}`,
  }
}

export function apiKeyGate(
  deps: ThrottleDeps & { apiKeys: ApiKeyCheck; requestBudget: RequestBudget; adminToken: string },
): MiddlewareHandler {
  const adminDigest = sha256Hex(deps.adminToken)
  return async (c, next) => {
    const url = new URL(c.req.url)
    const { calls } = procedureCallCount(url)
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
    let paths: string[]
    try {
      paths = procedurePaths(url.pathname)
    } catch {
      return trpcEdgeError(c, {
        code: 'BAD_REQUEST',
        httpStatus: 400,
        message: 'The procedure path is malformed',
      })
    }

    let caller: Omit<Caller, 'chargeMessages'>
    let own: BudgetLimits | undefined
    const digest = await sha256Hex(presented)
    if (constantTimeEqual(digest, await adminDigest)) {
      const other = paths.find((path) => !path.startsWith(ADMIN_PREFIX))
      if (other !== undefined) {
        return trpcEdgeError(c, {
          code: 'UNAUTHORIZED',
          httpStatus: 401,
          message: `The admin token is for admin.* procedures only; ${other} needs an API key`,
        })
      }
      caller = { keyId: 'admin', admin: true }
    } else {
      let key: Awaited<ReturnType<ApiKeyCheck['verify']>>
      try {
        key = await deps.apiKeys.verifyDigest(digest)
      } catch (error) {
        return trpcEdgeError(c, unavailable(error))
      }
      if (key === undefined) {
        refused(deps, attempt.address, 'API key refused')
        return trpcEdgeError(c, {
          code: 'UNAUTHORIZED',
          httpStatus: 401,
          message: 'The API key is not valid',
        })
      }
      if (paths.some((path) => path.startsWith(ADMIN_PREFIX))) {
        return trpcEdgeError(c, {
          code: 'UNAUTHORIZED',
          httpStatus: 401,
          message: 'The admin API needs the admin token: API keys are refused for admin.* procedures',
        })
      }
      const refusal = scopeRefusal(key.scope, paths, c.req.header('Origin') || undefined)
      if (refusal !== undefined) return trpcEdgeError(c, refusal)
      caller = Object.keys(key.scope).length > 0 ? { keyId: key.id, scope: key.scope } : { keyId: key.id }
      if (key.scope.ratePerMinute !== undefined) own = { perMinute: key.scope.ratePerMinute }
    }

    let waitMs: number
    try {
      waitMs = await deps.requestBudget.take(caller.keyId, calls, own)
    } catch (error) {
      return trpcEdgeError(c, unavailable(error))
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
    const keyId = caller.keyId
    callers.set(c, {
      ...caller,
      chargeMessages: (extra) => deps.requestBudget.extend(keyId, extra, calls, own),
    })
    return next()
  }
}
