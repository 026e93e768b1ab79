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

/**
 * A procedure for holders of an API key; service errors mapped. The key and
 * the rate budget are checked by the gate before the body is read; this
 * check stands behind it in case the router is ever mounted without it.
 */
export const apiProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (!ctx.caller) {
    throw toTrpcError(
      new ServiceError('UNAUTHORIZED', 'An API key is required: send Authorization: Bearer <key>'),
    )
  }
  const result = await next()
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') throw toTrpcError(result.error.cause)
  return result
})
