/**
 * Rows of the webhook tables (migration 3) and back: endpoints with the
 * secret sealed by the token cipher (the purpose binds it to its endpoint,
 * as in the lowdb store, so a sealed value moves between stores as it is),
 * attempts as the console lists them. Times cross the wire as epoch
 * milliseconds; a row read is checked against its shape before use.
 */
import { z } from 'zod'
import { ServiceError } from '../../domain/errors.ts'
import { type DeliveryAttemptRecord, EVENT_TYPES, type WebhookEndpoint } from '../../domain/webhooks/event.ts'
import type { WebhookEndpointSummary } from '../../domain/webhooks/ports.ts'
import { type TokenCipher, webhookSecretPurpose } from '../lowdb/token-cipher.ts'
import { epochMs } from './sql-time.ts'

const eventType = z.enum(EVENT_TYPES)

/** The columns of an endpoint, from alias `p`, as `endpointRowSchema` reads them. */
export const ENDPOINT_COLUMNS = `p.id, p.url, p.events, p.sealed_secret, ${epochMs('p.created_at')} AS created_at,
  ${epochMs('p.disabled_at')} AS disabled_at, p.disabled_reason`

/** The columns of an attempt, from alias `a`, prefixed `a_`, as `attemptRowSchema` reads them. */
export const ATTEMPT_COLUMNS = `a.delivery_id AS a_delivery_id, a.endpoint_id AS a_endpoint_id,
  a.event_id AS a_event_id, a.event_type AS a_event_type, ${epochMs('a.at')} AS a_at, a.status AS a_status,
  a.error AS a_error, a.ok AS a_ok, a.duration_ms AS a_duration_ms`

const endpointRowSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(eventType),
  sealed_secret: z.string(),
  created_at: z.number(),
  disabled_at: z.number().nullable(),
  disabled_reason: z.string().nullable(),
})

const attemptRowSchema = z.object({
  a_delivery_id: z.string(),
  a_endpoint_id: z.string(),
  a_event_id: z.string(),
  a_event_type: eventType,
  a_at: z.number(),
  a_status: z.number().nullable(),
  a_error: z.string().nullable(),
  a_ok: z.boolean(),
  a_duration_ms: z.number(),
})

function parsed<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const result = schema.safeParse(raw)
  if (result.success) return result.data
  const columns = [...new Set(result.error.issues.map((issue) => String(issue.path[0] ?? 'row')))]
  throw new ServiceError(
    'STORAGE',
    `A stored ${what} in the database does not have the expected shape (${columns.join(', ')})`,
    { cause: result.error },
  )
}

/** The attempt an `ATTEMPT_COLUMNS` row holds. */
export function attemptFromRow(raw: unknown): DeliveryAttemptRecord {
  const row = parsed(attemptRowSchema, raw, 'webhook attempt')
  const attempt: DeliveryAttemptRecord = {
    deliveryId: row.a_delivery_id,
    endpointId: row.a_endpoint_id,
    eventId: row.a_event_id,
    eventType: row.a_event_type,
    at: Math.round(row.a_at),
    ok: row.a_ok,
    durationMs: row.a_duration_ms,
  }
  if (row.a_status !== null) attempt.status = row.a_status
  if (row.a_error !== null) attempt.error = row.a_error
  return attempt
}

/** The endpoint of an `ENDPOINT_COLUMNS` row, without its secret, with its last attempt when the row joins one. */
export function summaryFromRow(raw: unknown): WebhookEndpointSummary {
  const row = parsed(endpointRowSchema, raw, 'webhook endpoint')
  const summary: WebhookEndpointSummary = {
    id: row.id,
    url: row.url,
    events: row.events,
    createdAt: Math.round(row.created_at),
  }
  if (row.disabled_at !== null) summary.disabledAt = Math.round(row.disabled_at)
  if (row.disabled_reason !== null) summary.disabledReason = row.disabled_reason
  // A LEFT JOIN without an attempt gives nulls.
  const joined = (raw as { a_delivery_id?: unknown }).a_delivery_id
  if (joined !== null && joined !== undefined) summary.lastAttempt = attemptFromRow(raw)
  return summary
}

/** Opens sealed secrets, remembering each (a secret never changes; claims open the same ones again and again). */
export function secretOpener(cipher: TokenCipher): (endpointId: string, sealed: string) => Promise<string> {
  const opened = new Map<string, Promise<string>>()
  return (endpointId, sealed) => {
    const key = `${endpointId} ${sealed}`
    let secret = opened.get(key)
    if (secret === undefined) {
      secret = cipher.decrypt(sealed, webhookSecretPurpose(endpointId))
      secret.catch(() => opened.delete(key))
      opened.set(key, secret)
    }
    return secret
  }
}

/** The endpoint of an `ENDPOINT_COLUMNS` row, its secret opened. */
export async function endpointFromRow(
  raw: unknown,
  open: (endpointId: string, sealed: string) => Promise<string>,
): Promise<WebhookEndpoint> {
  const row = parsed(endpointRowSchema, raw, 'webhook endpoint')
  const { lastAttempt: _none, ...summary } = summaryFromRow(row)
  return { ...summary, secret: await open(row.id, row.sealed_secret) }
}
