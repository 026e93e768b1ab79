/**
 * What PostgreSQL mode shares between concurrent calls, and what each
 * caller still hears for itself: acceptances without keys asked together
 * go in one statement, settles in one transaction, one account's
 * reservations in one transaction (granted in the order asked); a caller
 * whose part fails hears its own error while the others are stored. New
 * mail is announced by the statement that stores it (and by an admin's
 * retry), heard by the other replicas and not by the one that stored it.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { postgresOutbox } from '../../../src/adapters/postgres/outbox-repository.ts'
import { postgresSendQuota } from '../../../src/adapters/postgres/send-quota.ts'
import { type PostgresSignals, postgresSignals } from '../../../src/adapters/postgres/signals.ts'
import { BOB, message } from '../../contracts/outbox-messages.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'
import { type RecordedQuery, recordingPool } from '../../support/query-plans.ts'

const RETENTION = { retentionMs: 30 * 86_400_000 }

const count = (recorded: readonly RecordedQuery[], start: RegExp) =>
  recorded.filter((each) => start.test(each.text)).length

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describePostgres('group commit on PostgreSQL', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
  })

  it('stores acceptances asked together in one statement, each caller answered with its own messages', async () => {
    const recorded: RecordedQuery[] = []
    const outbox = postgresOutbox(recordingPool(db.pool, recorded), RETENTION)
    const now = await outbox.now()
    const calls = [
      [await message('together-1', { at: now }), await message('together-2', { at: now })],
      [await message('together-3', { at: now, account: BOB })],
      [await message('together-4', { at: now })],
    ]
    recorded.length = 0
    const answers = await Promise.all(calls.map((call) => outbox.accept(call)))
    expect(answers.map((answer) => answer.map((result) => result.entry.id))).toEqual([
      ['together-1', 'together-2'],
      ['together-3'],
      ['together-4'],
    ])
    expect(count(recorded, /^\s*WITH inserted/)).toBe(1)
    for (const id of ['together-1', 'together-2', 'together-3', 'together-4']) {
      expect((await outbox.get(id))?.status).toBe('queued')
    }
  })

  it('fails only the caller whose message id is taken when acceptances share a statement', async () => {
    const outbox = postgresOutbox(db.pool, RETENTION)
    const now = await outbox.now()
    await outbox.accept([await message('taken', { at: now })])
    const results = await Promise.allSettled([
      outbox.accept([await message('fresh-1', { at: now })]),
      outbox.accept([await message('taken', { at: now })]),
      outbox.accept([await message('fresh-2', { at: now })]),
    ])
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' })
    expect((await outbox.get('fresh-1'))?.status).toBe('queued')
    expect((await outbox.get('fresh-2'))?.status).toBe('queued')
  })

  it('settles together in one transaction: moved, claim not held, and refused each answered alone', async () => {
    const recorded: RecordedQuery[] = []
    const outbox = postgresOutbox(recordingPool(db.pool, recorded), RETENTION)
    const account = 'settles@example.com'
    const now = await outbox.now()
    await outbox.accept(
      await Promise.all(['s-1', 's-2', 's-3'].map((id) => message(id, { at: now, account }))),
    )
    expect((await outbox.claimDue({ owner: 'r1', account, leaseMs: 60_000, limit: 3 })).length).toBe(3)
    recorded.length = 0
    const at = await outbox.now()
    const results = await Promise.allSettled([
      outbox.settle({
        owner: 'r1',
        id: 's-1',
        event: { type: 'sent', at, gmailMessageId: 'g1', gmailThreadId: 't1' },
      }),
      outbox.settle({
        owner: 'r2',
        id: 's-2',
        event: { type: 'sent', at, gmailMessageId: 'g2', gmailThreadId: 't2' },
      }),
      outbox.settle({ owner: 'r1', id: 's-3', event: { type: 'release', at } }),
    ])
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { id: 's-1', status: 'sent' } })
    expect(results[1]).toEqual({ status: 'fulfilled', value: undefined })
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } })
    expect(count(recorded, /^BEGIN; /)).toBe(1)
    expect((await outbox.get('s-1'))?.status).toBe('sent')
    expect((await outbox.get('s-2'))?.status).toBe('sending')
    expect((await outbox.get('s-3'))?.status).toBe('sending')
  })

  it("grants one account's reservations asked together in one transaction, in the order asked", async () => {
    const recorded: RecordedQuery[] = []
    const quota = postgresSendQuota(recordingPool(db.pool, recorded))
    const account = 'paced@example.com'
    const limits = { perMinute: 60, perDay: 4 }
    const answers = await Promise.all(
      ['q-1', 'q-2', 'q-3', 'q-4', 'q-5'].map((messageId) => quota.reserve({ account, messageId, limits })),
    )
    expect(count(recorded, /^BEGIN; /)).toBe(1)
    const granted = answers.flatMap((answer) => (answer.granted ? [answer.at] : []))
    expect(granted).toHaveLength(4)
    expect(answers[4]).toMatchObject({ granted: false, reason: 'daily_limit' })
    // The burst of 2 at once, then one interval apart, in the order asked.
    expect(granted[1]).toBe(granted[0])
    expect(granted[2]!).toBeGreaterThan(granted[1]!)
    expect(granted[3]!).toBeGreaterThan(granted[2]!)
    expect(await quota.sentToday(account)).toBe(4)
    // A message counted already is granted again without counting twice.
    expect((await quota.reserve({ account, messageId: 'q-2', limits })).granted).toBe(true)
    expect(await quota.sentToday(account)).toBe(4)
  })

  it('commits claims, renewals, outcomes and reservations asynchronously only when asked, acceptances never', async () => {
    const recorded: RecordedQuery[] = []
    const pool = recordingPool(db.pool, recorded)
    const outbox = postgresOutbox(pool, { ...RETENTION, synchronousCommitOutcomes: 'off' })
    const quota = postgresSendQuota(pool, { synchronousCommit: 'off' })
    const account = 'async@example.com'
    const now = await outbox.now()
    await outbox.accept([await message('async-1', { at: now, account })])
    await outbox.accept([await message('async-2', { at: now, account, idempotencyKey: 'async-key' })])
    const accepts = recorded.filter((each) => /INSERT INTO messages/.test(each.text))
    expect(accepts).toHaveLength(2)
    expect(accepts.some((each) => /synchronous_commit/.test(each.text))).toBe(false)

    recorded.length = 0
    await outbox.claimDue({ owner: 'r1', account, leaseMs: 60_000, limit: 2 })
    await outbox.renew({ owner: 'r1', ids: ['async-1'], leaseMs: 60_000 })
    await quota.reserve({ account, messageId: 'async-1', limits: { perMinute: 0, perDay: 10 } })
    const at = await outbox.now()
    const sent = await outbox.settle({
      owner: 'r1',
      id: 'async-1',
      event: { type: 'sent', at, gmailMessageId: 'g', gmailThreadId: 't' },
    })
    expect(sent?.status).toBe('sent')
    const openings = recorded.filter((each) => each.text.startsWith('BEGIN'))
    expect(openings).toHaveLength(4)
    for (const each of openings) expect(each.text).toMatch(/^BEGIN; SET LOCAL synchronous_commit TO off; /)
  })

  describe('announcements of new mail', () => {
    const replicas: Array<{ pool: pg.Pool; signals: PostgresSignals; heard: string[] }> = []
    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const pool = new pg.Pool({ connectionString: db.url, max: 2 })
        // The test database is dropped at the end: its connections are cut, which is not the test's concern.
        pool.on('error', () => {})
        const signals = postgresSignals({ pool, databaseUrl: db.url, outboxAnnouncesMail: true })
        const heard: string[] = []
        signals.subscribe((topic, detail) => {
          if (topic === 'mail') heard.push(detail ?? '')
        })
        replicas.push({ pool, signals, heard })
        await until(() => signals.listening(), 'the listening connection')
      }
    })
    afterAll(async () => {
      for (const { pool, signals } of replicas) {
        await signals.close()
        await pool.end()
      }
    })

    it('is heard by the other replicas once the acceptance commits, not by the one that stored it', async () => {
      const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]]
      const outboxA = postgresOutbox(a.pool, RETENTION)
      const outboxB = postgresOutbox(b.pool, RETENTION)
      const now = await outboxA.now()
      await outboxA.accept([await message('heard-1', { at: now, account: 'told@example.com' })])
      await until(() => b.heard.includes('told@example.com'), "B hearing A's acceptance")
      // A's own announcement came first on its connection: once it hears B's, it would have heard its own.
      await outboxB.accept([await message('heard-2', { at: now, account: 'back@example.com' })])
      await until(() => a.heard.includes('back@example.com'), "A hearing B's acceptance")
      expect(a.heard).not.toContain('told@example.com')
      expect(b.heard).not.toContain('back@example.com')
    })

    it("is made by an admin's retry, and publish('mail') sends nothing more", async () => {
      const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]]
      const outbox = postgresOutbox(a.pool, RETENTION)
      const account = 'retried@example.com'
      const now = await outbox.now()
      await outbox.accept([await message('retried', { at: now, account })])
      await until(() => b.heard.includes(account), 'the acceptance')
      b.heard.length = 0
      await outbox.claimDue({ owner: 'r1', account, leaseMs: 60_000, limit: 1 })
      const at = await outbox.now()
      await outbox.settle({
        owner: 'r1',
        id: 'retried',
        event: { type: 'fail', at, error: { code: 'GMAIL_REJECTED', message: 'no' } },
      })
      await a.signals.publish('mail', 'published@example.com')
      await outbox.change('retried', () => ({ type: 'adminRetry', at, held: false }))
      await until(() => b.heard.includes(account), 'the retry')
      expect(b.heard).toEqual([account])
    })
  })
})
