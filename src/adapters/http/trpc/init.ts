/** The procedure builders the router uses, and nothing else. */
import { initTRPC } from '@trpc/server'
import { ServiceError } from '../../../domain/errors.ts'
import type { Caller, TrpcContext } from './context.ts'
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
  // The admin token is for admin.* only (the gate refuses it first).
  if (!ctx.caller || ctx.caller.admin) {
    throw toTrpcError(
      new ServiceError('UNAUTHORIZED', 'An API key is required: send Authorization: Bearer <key>'),
    )
  }
  const result = await next()
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') throw toTrpcError(result.error.cause)
  return result
})

/**
 * Charges the messages of a batch beyond the call itself (which the gate
 * already charged) to the caller's rate budget, before anything is stored.
 */
export async function chargeMessages(ctx: { caller?: Caller | undefined }, messages: number): Promise<void> {
  const waitMs = (await ctx.caller?.chargeMessages?.(messages - 1)) ?? 0
  if (waitMs <= 0) return
  const seconds = Math.max(1, Math.ceil(waitMs / 1000))
  throw toTrpcError(
    new ServiceError(
      'TOO_MANY_REQUESTS',
      `Too many requests for this API key: a batch of ${messages} messages counts as ${messages} requests; retry in ${seconds} s`,
      { retryable: true, retryAfterMs: waitMs },
    ),
  )
}

/** A procedure for the admin only (`Authorization: Bearer ADMIN_TOKEN`); an API key is refused. */
export const adminProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (!ctx.caller?.admin) {
    throw toTrpcError(
      new ServiceError(
        'UNAUTHORIZED',
        'The admin API needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>',
      ),
    )
  }
  const result = await next()
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') throw toTrpcError(result.error.cause)
  return result
})
