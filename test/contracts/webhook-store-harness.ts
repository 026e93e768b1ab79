/**
 * The shared set-up of the webhook-store contract (webhook-store.contract.ts
 * and webhook-deliveries.contract.ts): a fresh store before each test, a
 * time near the real clock in whole milliseconds (PostgreSQL's retention
 * sweep measures by its own), and builders of endpoints, events and attempts.
 */
import { beforeEach } from 'vitest'
import type {
  DeliveryAttemptRecord,
  DeliveryJob,
  EventType,
  WebhookEndpoint,
  WebhookEvent,
} from '../../src/domain/webhooks/event.ts'
import { attemptRecord } from '../../src/domain/webhooks/event.ts'
import type { WebhookStore } from '../../src/domain/webhooks/ports.ts'

export interface WebhookStoreUnderTest {
  store: WebhookStore
  /** Another store on the same storage (a restart, another replica); absent for the fake. */
  reopen?(): Promise<WebhookStore>
  /** Everything the store wrote (its files, its rows) as text; absent for the fake. */
  rawText?(): Promise<string>
  close?(): Promise<void>
}

export const SECOND = 1_000
export const LEASE = 30 * SECOND

export interface WebhookHarness {
  readonly subject: WebhookStoreUnderTest
  readonly store: WebhookStore
  /** The test's start, epoch ms. */
  readonly t0: number
  endpoint(events?: EventType[], overrides?: Partial<WebhookEndpoint>): WebhookEndpoint
  event(type?: EventType, id?: string): WebhookEvent
  attempt(
    job: Pick<DeliveryJob, 'id' | 'endpoint' | 'event'>,
    at: number,
    outcome?: Partial<DeliveryAttemptRecord>,
  ): DeliveryAttemptRecord
  claim(owner: string, now: number, limit?: number): Promise<DeliveryJob[]>
}

/** Registers the fresh store of each test; the harness reads it when called. */
export function webhookHarness(make: () => Promise<WebhookStoreUnderTest>): WebhookHarness {
  let subject: WebhookStoreUnderTest | undefined
  let t0 = 0
  let endpointCount = 0
  beforeEach(async () => {
    subject = await make()
    t0 = Math.floor(Date.now() / SECOND) * SECOND
    return () => subject?.close?.()
  })
  const harness: WebhookHarness = {
    get subject() {
      return subject!
    },
    get store() {
      return subject!.store
    },
    get t0() {
      return t0
    },
    endpoint(events = [], overrides = {}) {
      endpointCount++
      return {
        id: `wh_${endpointCount}_${crypto.randomUUID().slice(0, 8)}`,
        url: `https://hooks.example.com/${endpointCount}`,
        events,
        secret: `whsec_${btoa(`secret-${endpointCount}-IN-CLEAR`)}`,
        createdAt: t0 + endpointCount,
        ...overrides,
      }
    },
    event(type = 'mail.sent', id = `evt_${crypto.randomUUID().replaceAll('-', '')}`) {
      return {
        id,
        type,
        at: t0 - 5,
        data: { id: 'msg-1', status: type.slice(5), to: ['bob@example.com'], subject: 'Grüße', attempts: 1 },
      }
    },
    attempt: (job, at, outcome = {}) =>
      attemptRecord(job, { at, status: 500, ok: false, durationMs: 12.5, ...outcome }),
    claim: (owner, now, limit = 10) => subject!.store.claimDue({ owner, now, leaseMs: LEASE, limit }),
  }
  return harness
}
