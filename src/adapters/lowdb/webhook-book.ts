/**
 * The lowdb webhook store's rules over its plain data (`webhook-files.ts`):
 * fan-out at publication, which deliveries a claim may take, and what is
 * kept. Pure functions of the data and the times given, so that the store
 * (`webhook-store.ts`) is only files and leases, and the ledger
 * (`webhook-ledger.ts`) only the changes and their indexes.
 */
import {
  type DeliveryAttemptRecord,
  subscribes,
  type WebhookEndpoint,
  type WebhookEvent,
} from '../../domain/webhooks/event.ts'
import type { WebhookEndpointSummary } from '../../domain/webhooks/ports.ts'
import type { BookChange, DeliveriesFile, StoredDelivery, StoredEndpoint } from './webhook-files.ts'

/** A claim held in memory: one process, so a restart frees every claim, as the death of a replica does. */
export interface Lease {
  owner: string
  until: number
}

export interface Retention {
  /** Finished deliveries (and events no longer needed) older than this are dropped. */
  retentionMs: number
  /** At most this many finished deliveries are kept, the latest. */
  finishedKept: number
  /** Attempts kept per endpoint, the latest. */
  attemptsPerEndpoint: number
}

/** What is kept unless told otherwise: 7 days, the last 1,000 finished deliveries, 100 attempts per endpoint. */
export const DEFAULT_RETENTION: Retention = {
  retentionMs: 7 * 86_400_000,
  finishedKept: 1_000,
  attemptsPerEndpoint: 100,
}

/** The retention options given (undefined ones do not hide the defaults). */
export function retentionOf(options: Partial<Retention>): Retention {
  const keep = { ...DEFAULT_RETENTION }
  if (options.retentionMs !== undefined) keep.retentionMs = options.retentionMs
  if (options.finishedKept !== undefined) keep.finishedKept = options.finishedKept
  if (options.attemptsPerEndpoint !== undefined) keep.attemptsPerEndpoint = options.attemptsPerEndpoint
  return keep
}

/**
 * The change that publishes `events` not stored yet: each with one delivery
 * due at `at` per enabled endpoint subscribed to its type; an event no
 * endpoint wants is not stored. Undefined when there is nothing to store.
 * The events are copied unless `owned` (handed over by the caller).
 */
export function fanOut(
  book: DeliveriesFile,
  endpoints: readonly StoredEndpoint[],
  events: readonly WebhookEvent[],
  at: number,
  newId: () => string,
  owned = false,
): Extract<BookChange, { kind: 'add' }> | undefined {
  const change: Extract<BookChange, { kind: 'add' }> = { kind: 'add', events: [], deliveries: [] }
  const seen = new Set<string>()
  for (const event of events) {
    if (book.events[event.id] !== undefined || seen.has(event.id)) continue
    const targets = endpoints.filter((endpoint) => subscribes(endpoint, event.type))
    if (targets.length === 0) continue
    seen.add(event.id)
    change.events.push(owned ? event : structuredClone(event))
    for (const endpoint of targets) {
      change.deliveries.push({
        id: newId(),
        eventId: event.id,
        endpointId: endpoint.id,
        dueAt: at,
        attempts: 0,
        firstDueAt: at,
      })
    }
  }
  return change.events.length === 0 ? undefined : change
}

/** Whether any enabled endpoint wants one of `types`. */
export function wanted(
  endpoints: readonly StoredEndpoint[],
  types: readonly WebhookEvent['type'][],
): boolean {
  return endpoints.some((endpoint) => types.some((type) => subscribes(endpoint, type)))
}

/** When a pending delivery may be claimed: its due time, or the end of the lease that holds it. */
export function claimableAt(delivery: StoredDelivery, lease: Lease | undefined): number {
  return lease === undefined ? delivery.dueAt : lease.until
}

/**
 * Pending deliveries (in creation order) of enabled endpoints claimable at
 * `now`, oldest due first (ties in creation order), at most `limit`: one
 * pass keeping the `limit` first, not a sort of every due delivery.
 */
export function dueDeliveries(
  pending: Iterable<StoredDelivery>,
  enabled: ReadonlySet<string>,
  leases: ReadonlyMap<string, Lease>,
  now: number,
  limit: number,
): StoredDelivery[] {
  const picked: Array<{ delivery: StoredDelivery; at: number }> = []
  if (limit <= 0) return []
  for (const delivery of pending) {
    const at = claimableAt(delivery, leases.get(delivery.id))
    if (at > now || !enabled.has(delivery.endpointId)) continue
    if (picked.length === limit && at >= picked[limit - 1]!.at) continue
    // After every one due no later: a tie keeps the creation order.
    let index = picked.length
    while (index > 0 && picked[index - 1]!.at > at) index--
    picked.splice(index, 0, { delivery, at })
    if (picked.length > limit) picked.pop()
  }
  return picked.map((item) => item.delivery)
}

/** The endpoint as listed: no secret, with its last attempt. */
export function summaryOf(endpoint: StoredEndpoint, book: DeliveriesFile): WebhookEndpointSummary {
  const { sealedSecret: _sealed, ...rest } = endpoint
  const summary: WebhookEndpointSummary = structuredClone(rest)
  const last = book.attempts[endpoint.id]?.at(-1)
  if (last !== undefined) summary.lastAttempt = structuredClone(last)
  return summary
}

/** The endpoint with its secret opened, for a job (a copy: its only nested field is the list of types). */
export function endpointOf(stored: StoredEndpoint, secret: string): WebhookEndpoint {
  const { sealedSecret: _sealed, ...rest } = stored
  return { ...rest, events: [...rest.events], secret }
}

/** Appends an attempt (the book's own from now on) to its endpoint's list, keeping the latest `kept`. */
export function recordAttempt(book: DeliveriesFile, attempt: DeliveryAttemptRecord, kept: number): void {
  const list = book.attempts[attempt.endpointId] ?? []
  book.attempts[attempt.endpointId] = list
  list.push(attempt)
  if (list.length > kept) list.splice(0, list.length - kept)
}

/**
 * Drops what is no longer needed: deliveries of endpoints gone, pending
 * deliveries of endpoints disabled, finished deliveries past the retention
 * or beyond the count kept, attempts of endpoints gone or beyond the count
 * kept, events that no kept delivery or attempt refers to.
 */
export function prune(
  book: DeliveriesFile,
  endpoints: readonly StoredEndpoint[],
  now: number,
  keep: Retention,
): void {
  const endpointIds = new Set(endpoints.map((endpoint) => endpoint.id))
  const enabled = new Set(
    endpoints.filter((endpoint) => endpoint.disabledAt === undefined).map((endpoint) => endpoint.id),
  )
  const cutoff = now - keep.retentionMs
  const finished = book.deliveries.filter(
    (delivery) => delivery.finished !== undefined && endpointIds.has(delivery.endpointId),
  )
  const keptFinished = new Set(
    finished
      .filter((delivery) => (delivery.finishedAt ?? 0) >= cutoff)
      .slice(-keep.finishedKept)
      .map((delivery) => delivery.id),
  )
  book.deliveries = book.deliveries.filter((delivery) =>
    delivery.finished === undefined ? enabled.has(delivery.endpointId) : keptFinished.has(delivery.id),
  )
  for (const [endpointId, list] of Object.entries(book.attempts)) {
    if (!endpointIds.has(endpointId)) delete book.attempts[endpointId]
    else if (list.length > keep.attemptsPerEndpoint) list.splice(0, list.length - keep.attemptsPerEndpoint)
  }
  // An attempt the console lists can be replayed: its event stays while the attempt does.
  const needed = new Set(book.deliveries.map((delivery) => delivery.eventId))
  for (const list of Object.values(book.attempts)) for (const attempt of list) needed.add(attempt.eventId)
  for (const id of Object.keys(book.events)) if (!needed.has(id)) delete book.events[id]
}
