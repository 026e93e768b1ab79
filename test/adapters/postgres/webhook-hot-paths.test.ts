/**
 * The webhook store's hot path does not grow with history: with 30,000
 * finished deliveries and their attempts in the tables, every statement
 * that publishing, claiming, settling, waking, counting and listing an
 * endpoint's attempts runs is planned without a sequential scan of the
 * events, deliveries or attempts (the endpoints are a handful of rows).
 * The statements are the adapter's own, recorded as it runs them.
 */
import { beforeAll, expect, it } from 'vitest'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { postgresWebhookStore } from '../../../src/adapters/postgres/webhook-store.ts'
import { attemptRecord } from '../../../src/domain/webhooks/event.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'
import { type RecordedQuery, recordingPool, scansOf } from '../../support/query-plans.ts'

const HISTORY = 30_000
const TABLES = new Set(['webhook_events', 'webhook_deliveries', 'webhook_attempts'])
const cipher = createTokenCipher([new Uint8Array(32).fill(4)])

describePostgres('the webhook hot path on PostgreSQL, with a long history', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
    const store = postgresWebhookStore(db.pool, cipher)
    for (let n = 0; n < 10; n++) {
      await store.createEndpoint({
        id: `wh_${n}`,
        url: `https://hooks.example.com/${n}`,
        events: [],
        secret: `whsec_${n}`,
        createdAt: Date.now() + n,
      })
    }
    await db.pool.query(
      `INSERT INTO webhook_events (id, type, at, data)
       SELECT 'evt_old_' || n, 'mail.sent', now() - interval '1 day', '{}'::jsonb FROM generate_series(1, ${HISTORY}) n`,
    )
    await db.pool.query(
      `INSERT INTO webhook_deliveries (id, event_id, endpoint_id, due_at, first_due_at, attempts, finished, finished_at)
       SELECT 'dlv_old_' || n, 'evt_old_' || n, 'wh_' || (n % 10), now() - interval '1 day', now() - interval '1 day',
         1, 'delivered', now() - interval '1 day'
       FROM generate_series(1, ${HISTORY}) n`,
    )
    await db.pool.query(
      `INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, event_type, at, status, ok, duration_ms)
       SELECT 'dlv_old_' || n, 'wh_' || (n % 10), 'evt_old_' || n, 'mail.sent', now() - interval '1 day', 204, true, 5
       FROM generate_series(1, ${HISTORY}) n`,
    )
    await db.pool.query('ANALYZE')
  }, 120_000)

  it('plans every statement of publish, claim, settle, wake-up, counts and attempts without a sequential scan', async () => {
    const recorded: RecordedQuery[] = []
    const store = postgresWebhookStore(recordingPool(db.pool, recorded), cipher)
    const now = Date.now()
    await store.publish([{ id: 'evt_live', type: 'mail.sent', at: now, data: { id: 'm' } }], now)
    await store.nextDueAt()
    await store.pendingCount()
    const jobs = await store.claimDue({ owner: 'r1', now, leaseMs: 30_000, limit: 3 })
    expect(jobs).toHaveLength(3)
    const job = jobs[0]!
    const settled = await store.settle({
      owner: 'r1',
      deliveryId: job.id,
      attempt: attemptRecord(job, {
        at: now + 10,
        status: 204,
        ok: true,
        durationMs: 4,
      }),
      next: { done: 'delivered' },
    })
    expect(settled).toBe(true)
    expect(await store.attempts(job.endpoint.id, 20)).toHaveLength(20)
    await store.listEndpoints()
    await store.replay({
      endpointId: job.endpoint.id,
      eventId: job.event.id,
      at: now,
      deliveryId: 'dlv_again',
    })

    expect(recorded.length).toBeGreaterThan(8)
    expect(await scansOf(db.pool, recorded, TABLES)).toEqual([])
  })
})
