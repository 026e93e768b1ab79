/**
 * `admin.webhooks.*`: signed webhook endpoints and their deliveries, for
 * the admin token only. Inputs are strict; the secret is in `create`'s
 * answer and in no other.
 */
import { z } from 'zod'
import type { WebhookAdmin } from '../../../app/webhooks/admin.ts'
import { MAX_DELIVERIES_LIMIT, MAX_WEBHOOK_URL_LENGTH } from '../../../app/webhooks/webhook-admin.ts'
import { ServiceError } from '../../../domain/errors.ts'
import { EVENT_TYPES } from '../../../domain/webhooks/event.ts'
import type { TrpcContext } from './context.ts'
import { adminProcedure, router } from './init.ts'

const endpointId = z.string().min(1).max(128)

function webhooksOf(ctx: { admin?: TrpcContext['admin'] | undefined }): WebhookAdmin {
  const webhooks = ctx.admin?.webhooks
  if (webhooks === undefined) throw new ServiceError('NOT_FOUND', 'Webhooks are not available on this server')
  return webhooks
}

export const adminWebhooksRouter = router({
  create: adminProcedure
    .input(
      z.strictObject({
        url: z.string().min(1).max(MAX_WEBHOOK_URL_LENGTH),
        events: z
          .array(z.enum(EVENT_TYPES))
          .max(EVENT_TYPES.length * 2)
          .optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      webhooksOf(ctx).create(
        input.events === undefined ? { url: input.url } : { url: input.url, events: input.events },
      ),
    ),

  list: adminProcedure.query(({ ctx }) => webhooksOf(ctx).list()),

  delete: adminProcedure
    .input(z.strictObject({ id: endpointId }))
    .mutation(({ ctx, input }) => webhooksOf(ctx).delete(input.id)),

  deliveries: adminProcedure
    .input(
      z.strictObject({ id: endpointId, limit: z.number().int().min(1).max(MAX_DELIVERIES_LIMIT).optional() }),
    )
    .query(({ ctx, input }) =>
      webhooksOf(ctx).deliveries(
        input.limit === undefined ? { id: input.id } : { id: input.id, limit: input.limit },
      ),
    ),

  /** Not in the contract's table: sends a stored event to the endpoint again, under the same `webhook-id`. */
  replay: adminProcedure
    .input(z.strictObject({ id: endpointId, eventId: z.string().min(1).max(128) }))
    .mutation(async ({ ctx, input }) => {
      await webhooksOf(ctx).replay(input)
      return { replayed: true as const }
    }),
})
