/**
 * The files of the lowdb webhook store, and their shapes (checked on open:
 * a damaged file stops the start with a sentence naming it):
 *
 * - `webhooks.json`: the endpoints, oldest first, each secret sealed by the
 *   token cipher (never in clear);
 * - `webhook-deliveries.json`: a snapshot of the events still needed, the
 *   deliveries (pending ones, and the latest finished ones), the latest
 *   attempts per endpoint, and the journal of changes under way
 *   (`ChangeJournal`), up to the log record `seq`;
 * - `webhook-deliveries.<n>.log`: the changes made since, one JSON record a
 *   line (`webhook-log.ts`), so that a settle or a note appends a few
 *   hundred bytes instead of rewriting the snapshot. A torn last line (a
 *   crash in the middle of an append) was never acknowledged and is ignored;
 *   any other line that does not parse stops the start, naming the file.
 */
import { z } from 'zod'
import { MAIL_STATUSES } from '../../domain/mail/record.ts'
import { EVENT_TYPES } from '../../domain/webhooks/event.ts'

export const ENDPOINTS_FILE = 'webhooks.json'
export const DELIVERIES_FILE = 'webhook-deliveries.json'
const LOG_FILE = /^webhook-deliveries\.(\d+)\.log$/

/** The name of the log file of generation `gen`. */
export const logFileName = (gen: number) => `webhook-deliveries.${gen}.log`

/** The generation of a log file's name; undefined for any other name. */
export function logGeneration(name: string): number | undefined {
  const match = LOG_FILE.exec(name)
  return match === null ? undefined : Number(match[1])
}

const eventType = z.enum(EVENT_TYPES)

const storedEndpointSchema = z.object({
  id: z.string().min(1),
  url: z.string().min(1),
  events: z.array(eventType),
  sealedSecret: z.string().min(1),
  createdAt: z.number(),
  disabledAt: z.number().exactOptional(),
  disabledReason: z.string().exactOptional(),
})

export const endpointsFileSchema = z.object({
  version: z.literal(1),
  endpoints: z.array(storedEndpointSchema),
})

const eventSchema = z.object({
  id: z.string().min(1),
  type: eventType,
  at: z.number(),
  data: z.record(z.string(), z.unknown()),
})

const deliverySchema = z.object({
  id: z.string().min(1),
  eventId: z.string().min(1),
  endpointId: z.string().min(1),
  dueAt: z.number(),
  attempts: z.number().int().nonnegative(),
  firstDueAt: z.number(),
  finished: z.enum(['delivered', 'gave_up']).exactOptional(),
  finishedAt: z.number().exactOptional(),
})

const attemptSchema = z.object({
  deliveryId: z.string(),
  endpointId: z.string(),
  eventId: z.string(),
  eventType,
  at: z.number(),
  status: z.number().exactOptional(),
  error: z.string().exactOptional(),
  ok: z.boolean(),
  durationMs: z.number(),
})

const accountPriorSchema = z.object({
  status: z.enum(['connected', 'reauthorization_required', 'revoked']),
  expiryWarnedFor: z.number().exactOptional(),
})

const notedChangeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mail'), id: z.string(), prior: z.enum(MAIL_STATUSES).exactOptional() }),
  z.object({ kind: z.literal('account'), email: z.string(), prior: accountPriorSchema.exactOptional() }),
])

export const deliveriesFileSchema = z.object({
  version: z.literal(1),
  /** The last log record the snapshot holds (absent: none). */
  seq: z.number().int().nonnegative().exactOptional(),
  events: z.record(z.string(), eventSchema),
  /** In creation order (ties in due time are claimed in this order). */
  deliveries: z.array(deliverySchema),
  /** Per endpoint id, oldest first. */
  attempts: z.record(z.string(), z.array(attemptSchema)),
  /** Per `noteKey`. */
  journal: z.record(z.string(), notedChangeSchema),
})

/** One change to the deliveries file, as the log records it (`webhook-ledger.ts` applies it). */
const bookChangeSchema = z.discriminatedUnion('kind', [
  /** Events published, with the deliveries of their fan-out (made only for an event not stored yet). */
  z.object({ kind: z.literal('add'), events: z.array(eventSchema), deliveries: z.array(deliverySchema) }),
  /** A replay: one more delivery of a stored event. */
  z.object({ kind: z.literal('replay'), delivery: deliverySchema }),
  /** An attempt recorded; the delivery due again at `retryAt`, or finished. */
  z.object({
    kind: z.literal('settle'),
    deliveryId: z.string(),
    attempt: attemptSchema,
    retryAt: z.number().exactOptional(),
    done: z.enum(['delivered', 'gave_up']).exactOptional(),
  }),
  /** An endpoint deleted (everything of it goes) or disabled (its pending deliveries go). */
  z.object({ kind: z.literal('drop'), endpointId: z.string(), pendingOnly: z.boolean() }),
  z.object({ kind: z.literal('note'), changes: z.array(notedChangeSchema) }),
  z.object({ kind: z.literal('forget'), keys: z.array(z.string()) }),
])

/** A line of a log file: the changes of one call, all or nothing. */
export const logRecordSchema = z.object({
  seq: z.number().int().positive(),
  changes: z.array(bookChangeSchema),
})

export type BookChange = z.infer<typeof bookChangeSchema>
export type LogRecord = z.infer<typeof logRecordSchema>
export type StoredEndpoint = z.infer<typeof storedEndpointSchema>
export type StoredDelivery = z.infer<typeof deliverySchema>
export type EndpointsFile = z.infer<typeof endpointsFileSchema>
export type DeliveriesFile = z.infer<typeof deliveriesFileSchema>

export const emptyEndpoints = (): EndpointsFile => ({ version: 1, endpoints: [] })
export const emptyDeliveries = (): DeliveriesFile => ({
  version: 1,
  events: {},
  deliveries: [],
  attempts: {},
  journal: {},
})
