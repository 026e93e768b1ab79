/**
 * Settles on PostgreSQL share statements (src/adapters/postgres/webhook-settles.ts):
 * settles asked for together go as one statement, and each still answers
 * for itself: true for a delivery its owner holds, false (nothing written)
 * for one another owner holds or that is finished, its attempt recorded
 * only when it moved.
 */
import { beforeAll, expect, it } from 'vitest'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { postgresWebhookStore } from '../../../src/adapters/postgres/webhook-store.ts'
import type { DeliveryJob } from '../../../src/domain/webhooks/event.ts'
import { attemptRecord } from '../../../src/domain/webhooks/event.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'
import { type RecordedQuery, recordingPool } from '../../support/query-plans.ts'

const cipher = createTokenCipher([new Uint8Array(32).fill(3)])

describePostgres('webhook settles on PostgreSQL', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
  })

  it('settles many at once in one statement, each answering for its own claim', async () => {
    const recorded: RecordedQuery[] = []
    const store = postgresWebhookStore(recordingPool(db.pool, recorded), cipher)
    const now = Date.now()
    await store.createEndpoint({
      id: 'wh_batch',
      url: 'https://hooks.example.com/batch',
      events: [],
      secret: 'whsec_YmF0Y2gtc2VjcmV0',
      createdAt: now,
    })
    await store.publish(
      Array.from({ length: 10 }, (_, n) => ({
        id: `evt_batch_${n}`,
        type: 'mail.sent' as const,
        at: now,
        data: { n },
      })),
      now,
    )
    const mine = await store.claimDue({ owner: 'a', now, leaseMs: 60_000, limit: 6 })
    const theirs = await store.claimDue({ owner: 'b', now, leaseMs: 60_000, limit: 10 })
    expect([mine.length, theirs.length]).toEqual([6, 4])
    const settle = (job: DeliveryJob, index: number) =>
      store.settle({
        owner: 'a',
        deliveryId: job.id,
        attempt: attemptRecord(job, {
          at: now + index,
          ...(index % 2 === 0 ? { status: 204 } : { error: 'timeout' }),
          ok: index % 2 === 0,
          durationMs: 3,
        }),
        next: index % 2 === 0 ? { done: 'delivered' } : { retryAt: now + 5_000 },
      })
    recorded.length = 0
    const answers = await Promise.all([...mine, ...theirs].map(settle))
    expect(answers).toEqual([true, true, true, true, true, true, false, false, false, false])
    expect(recorded.filter((query) => query.text.includes('jsonb_to_recordset'))).toHaveLength(1)

    const attempts = await store.attempts('wh_batch', 20)
    // Newest first, in the order they were asked for; none for the claims 'a' did not hold.
    expect(attempts.map((attempt) => attempt.eventId)).toEqual(mine.map((job) => job.event.id).reverse())
    expect(attempts.map((attempt) => attempt.status ?? attempt.error)).toEqual([
      'timeout',
      204,
      'timeout',
      204,
      'timeout',
      204,
    ])
    // The three retried are pending again; the four 'b' holds are still its own.
    expect(await store.pendingCount()).toBe(7)
    expect(await store.claimDue({ owner: 'c', now: now + 5_000, leaseMs: 60_000, limit: 10 })).toHaveLength(3)
    // A second settle of a finished delivery writes nothing.
    expect(await settle(mine[0]!, 0)).toBe(false)
    expect(await store.attempts('wh_batch', 20)).toHaveLength(6)
  })
})
