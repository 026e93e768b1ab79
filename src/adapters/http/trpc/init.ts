/** The procedure builders the router uses, and nothing else. */
import { initTRPC } from '@trpc/server'
import { ServiceError } from '../../../domain/errors.ts'
import type { TrpcContext } from './context.ts'
import { formatError, toTrpcError } from './errors.ts'

const t = initTRPC.context<TrpcContext>().create({
  isDev: false,
  errorFormatter: formatError,
})

export const router = t.router

/** A procedure for holders of an API key, within their rate budget; service errors mapped. */
export const apiProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (!ctx.caller) {
    throw toTrpcError(
      new ServiceError('UNAUTHORIZED', 'An API key is required: send Authorization: Bearer <key>'),
    )
  }
  if (ctx.rateLimitedForMs !== undefined) {
    const seconds = Math.max(1, Math.ceil(ctx.rateLimitedForMs / 1000))
    throw toTrpcError(
      new ServiceError('TOO_MANY_REQUESTS', `Too many requests for this API key; retry in ${seconds} s`, {
        retryAfterMs: ctx.rateLimitedForMs,
      }),
    )
  }
  const result = await next()
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') throw toTrpcError(result.error.cause)
  return result
})
