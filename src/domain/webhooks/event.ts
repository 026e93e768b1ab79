/**
 * Webhook events (Standard Webhooks, https://www.standardwebhooks.com/):
 * what happened to mail and accounts, stored with the change it reports
 * and delivered at least once to every endpoint subscribed to its type.
 */

export const EVENT_TYPES = [
  'mail.sent',
  'mail.failed',
  'mail.held',
  'mail.canceled',
  'account.connected',
  'account.reauthorization_required',
  'account.expiring',
] as const

export type EventType = (typeof EVENT_TYPES)[number]

/** One event, as delivered: the body is `{ type, timestamp (ISO 8601), data }`. */
export interface WebhookEvent {
  /** `evt_…`; the `webhook-id` of every attempt of every delivery of it. */
  id: string
  type: EventType
  /** Epoch ms of the change. */
  at: number
  /** A `MailRecord` for `mail.*`, an `AccountStatus` for `account.*`, as it was at the change. */
  data: Record<string, unknown>
}

/** An endpoint the admin registered. */
export interface WebhookEndpoint {
  /** `wh_…` */
  id: string
  url: string
  /** Subscribed types; empty means all. */
  events: EventType[]
  /** `whsec_<base64>`: shown once at creation; stores keep it sealed. */
  secret: string
  /** Epoch ms. */
  createdAt: number
  /** Set when the endpoint answered 410 (or the admin disabled it): nothing more is sent to it. */
  disabledAt?: number
  disabledReason?: string
}

/** One HTTP attempt of one event to one endpoint, for the console and `admin.webhooks.deliveries`. */
export interface DeliveryAttemptRecord {
  deliveryId: string
  endpointId: string
  eventId: string
  eventType: EventType
  /** Epoch ms. */
  at: number
  /** The HTTP status answered, when there was an answer. */
  status?: number
  /** Why the attempt failed without an answer (`timeout`, `connection refused`, …). */
  error?: string
  ok: boolean
  durationMs: number
}

/** The work of one event to one endpoint: what a dispatcher claims. */
export interface DeliveryJob {
  /** `dlv_…`: one per (event, endpoint), and one more per replay. */
  id: string
  endpoint: WebhookEndpoint
  event: WebhookEvent
  /** Attempts made before this one. */
  attempts: number
  /** Epoch ms of the first attempt's due time: retries go on for at least 24 h from it. */
  firstDueAt: number
}

/** Whether an endpoint wants events of `type`. */
export function subscribes(
  endpoint: Pick<WebhookEndpoint, 'events' | 'disabledAt'>,
  type: EventType,
): boolean {
  if (endpoint.disabledAt !== undefined) return false
  return endpoint.events.length === 0 || endpoint.events.includes(type)
}

/** The record of one attempt of `job`: the job's ids, and what came of it. */
export function attemptRecord(
  job: Pick<DeliveryJob, 'id' | 'endpoint' | 'event'>,
  outcome: Omit<DeliveryAttemptRecord, 'deliveryId' | 'endpointId' | 'eventId' | 'eventType'>,
): DeliveryAttemptRecord {
  return {
    deliveryId: job.id,
    endpointId: job.endpoint.id,
    eventId: job.event.id,
    eventType: job.event.type,
    ...outcome,
  }
}
