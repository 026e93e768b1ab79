/**
 * The webhook store: endpoints, the outbox of events, and the attempts
 * made, shared by every process on one store. Events are fanned out at
 * publication into one delivery per subscribed, enabled endpoint; a
 * dispatcher claims due deliveries with a lease (one replica at a time per
 * delivery, taken over when the lease runs out) and settles them.
 *
 * How events get in: PostgreSQL writes them in the same transaction as the
 * change they report (triggers on messages and accounts); the in-process
 * stores are told by `publish` right after the change and re-derive on open
 * what a crash in between could have lost. The contract suite
 * (test/contracts/webhook-store.contract.ts) holds every store to the same rules.
 */
import type { DeliveryAttemptRecord, DeliveryJob, WebhookEndpoint, WebhookEvent } from './event.ts'

export interface WebhookEndpointSummary extends Omit<WebhookEndpoint, 'secret'> {
  lastAttempt?: DeliveryAttemptRecord
}

export interface WebhookStore {
  createEndpoint(endpoint: WebhookEndpoint): Promise<void>
  /** Oldest first, without secrets, each with its last attempt. */
  listEndpoints(): Promise<WebhookEndpointSummary[]>
  /** Deletes the endpoint and its pending deliveries; undefined when unknown. */
  deleteEndpoint(id: string): Promise<WebhookEndpointSummary | undefined>
  /** Stops deliveries to the endpoint (it answered 410); pending ones are dropped. */
  disableEndpoint(id: string, at: number, reason: string): Promise<void>
  /**
   * Stores events and, in the same atomic step, one delivery due at `at`
   * for each enabled endpoint subscribed to each event's type. An event id
   * already stored is not stored again (publishing twice is harmless).
   */
  publish(events: WebhookEvent[], at: number): Promise<void>
  /**
   * Claims up to `limit` deliveries due at `now` (oldest due first),
   * skipping any another claim holds; each is leased to `owner` until
   * `now + leaseMs`.
   */
  claimDue(request: { owner: string; now: number; leaseMs: number; limit: number }): Promise<DeliveryJob[]>
  /**
   * Records an attempt of a claimed delivery, only while `owner` holds it
   * (false, nothing written, when the lease was lost), and then either
   * schedules the next attempt at `retryAt` or finishes the delivery.
   */
  settle(request: {
    owner: string
    deliveryId: string
    attempt: DeliveryAttemptRecord
    next: { retryAt: number } | { done: 'delivered' | 'gave_up' }
  }): Promise<boolean>
  /** Recent attempts to an endpoint, newest first. */
  attempts(endpointId: string, limit: number): Promise<DeliveryAttemptRecord[]>
  /**
   * A fresh delivery of a stored event to an endpoint, due at `at`; false
   * when either is unknown or the endpoint is disabled (nothing more is
   * sent to it). Stores keep events for a retention of days, so that a
   * recent delivery can be replayed; an older event may be gone.
   */
  replay(request: { endpointId: string; eventId: string; at: number; deliveryId: string }): Promise<boolean>
  /** Epoch ms of the earliest pending delivery's due time (or lease expiry), for waking the dispatcher. */
  nextDueAt(): Promise<number | undefined>
  /** Counts of pending deliveries, for metrics. */
  pendingCount(): Promise<number>
}
