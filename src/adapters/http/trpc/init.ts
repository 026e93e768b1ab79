/** The procedure builders the router uses, and nothing else. */
import { initTRPC } from '@trpc/server'
import { ServiceError } from '../../../domain/errors.ts'
import type { Caller, TrpcContext } from './context.ts'
import { formatError, toTrpcError } from './errors.ts'
import { dropRawContents } from './hand-over.ts'
import { putBack } from './long-strings.ts'

const t = initTRPC.context<TrpcContext>().create({
  isDev: false,
  errorFormatter: formatError,
})

export const router = t.router

/** The long strings taken out of a large body go back into its input, before zod sees it (`long-strings.ts`). */
async function putBackBodyStrings(
  ctx: { bodyStrings?: Map<string, string> | undefined },
  getRawInput: () => Promise<unknown>,
): Promise<void> {
  if (ctx.bodyStrings !== undefined && ctx.bodyStrings.size > 0) putBack(await getRawInput(), ctx.bodyStrings)
}

/**
 * A procedure for holders of an API key; service errors mapped. The key and
 * the rate budget are checked by the gate before the body is read; this
 * check stands behind it in case the router is ever mounted without it.
 */
export const apiProcedure = t.procedure.use(async ({ ctx, getRawInput, next }) => {
  // The admin token is for admin.* only (the gate refuses it first).
  if (!ctx.caller || ctx.caller.admin) {
    throw toTrpcError(
      new ServiceError('UNAUTHORIZED', 'An API key is required: send Authorization: Bearer <key>'),
    )
  }
  await putBackBodyStrings(ctx, getRawInput)
  const result = await next()
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') throw toTrpcError(result.error.cause)
  return result
})

/**
 * Lets go of the attachments' base64 in the input as tRPC parsed it, which
 * it keeps for the whole call (see `hand-over.ts`); after `.input()`, once
 * zod's result holds its own reference. Only a large body has base64 worth it.
 */
export const releaseRawInput = t.middleware(async ({ ctx, getRawInput, next }) => {
  if (ctx.bodyStrings !== undefined) dropRawContents(await getRawInput())
  return next()
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
export const adminProcedure = t.procedure.use(async ({ ctx, getRawInput, next }) => {
  if (!ctx.caller?.admin) {
    throw toTrpcError(
      new ServiceError(
        'UNAUTHORIZED',
        'The admin API needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>',
      ),
    )
  }
  await putBackBodyStrings(ctx, getRawInput)
  const result = await next()
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') throw toTrpcError(result.error.cause)
  return result
})
