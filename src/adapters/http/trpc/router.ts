/**
 * The tRPC router of `/trpc`: the contract's procedures. Inputs are strict
 * zod schemas (an unknown field is refused); outputs are plain JSON. Each
 * call passes its caller (the API key's id and scope) to the use cases.
 */
import { z } from 'zod'
import { toAccountStatus } from '../../../app/account-status.ts'
import { type MailRecord, toMailRecord } from '../../../app/mail-record.ts'
import { mailInputSchema } from '../../../domain/mail/input.ts'
import { MAIL_STATUSES } from '../../../domain/mail/record.ts'
import { adminRouter } from './admin-router.ts'
import { handOver } from './hand-over.ts'
import { apiProcedure, chargeMessages, releaseRawInput, router } from './init.ts'

const idInput = z.strictObject({ id: z.string().min(1).max(128) })

const mailRouter = router({
  // Not async, and the input handed over: nothing here keeps the attachments' base64 while the call waits.
  send: apiProcedure
    .input(mailInputSchema)
    .use(releaseRawInput)
    .mutation(({ ctx, input }) => ctx.mail.send(handOver(input), ctx.caller).then(toMailRecord)),

  sendBatch: apiProcedure
    .input(z.strictObject({ messages: z.array(mailInputSchema).min(1).max(100) }))
    .use(releaseRawInput)
    .mutation(({ ctx, input }) => {
      const messages = input.messages.map(handOver)
      return chargeMessages(ctx, messages.length)
        .then(() => ctx.mail.sendBatch(messages, ctx.caller))
        .then((records) => records.map(toMailRecord))
    }),

  get: apiProcedure
    .input(idInput)
    .query(async ({ ctx, input }) => toMailRecord(await ctx.mail.get(input.id, ctx.caller))),

  list: apiProcedure
    .input(
      z
        .strictObject({
          status: z.enum(MAIL_STATUSES as [string, ...string[]]).optional(),
          limit: z.number().int().min(1).max(100).optional(),
          cursor: z.string().min(1).max(512).optional(),
        })
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      const query: Parameters<typeof ctx.mail.list>[0] = {}
      if (input?.status !== undefined) query.status = input.status as (typeof MAIL_STATUSES)[number]
      if (input?.limit !== undefined) query.limit = input.limit
      if (input?.cursor !== undefined) query.cursor = input.cursor
      const page = await ctx.mail.list(query, ctx.caller)
      const answer: { items: MailRecord[]; nextCursor?: string } = { items: page.items.map(toMailRecord) }
      if (page.nextCursor !== undefined) answer.nextCursor = page.nextCursor
      return answer
    }),

  cancel: apiProcedure
    .input(idInput)
    .mutation(async ({ ctx, input }) => toMailRecord(await ctx.mail.cancel(input.id, ctx.caller))),

  /** Not in the first contract: puts a failed message back in the queue. */
  retry: apiProcedure
    .input(idInput)
    .mutation(async ({ ctx, input }) => toMailRecord(await ctx.mail.retry(input.id, ctx.caller))),
})

const accountsRouter = router({
  list: apiProcedure.query(async ({ ctx }) => (await ctx.accounts.list()).map(toAccountStatus)),
})

export const appRouter = router({ mail: mailRouter, accounts: accountsRouter, admin: adminRouter })

/** The router's type: what `@trpc/client` needs for full types. */
export type AppRouter = typeof appRouter
