/**
 * The outbox's hot path does not grow with history: with 50,000 finished
 * messages in the table, every statement that accepting, claiming,
 * renewing, settling and waking runs is planned by PostgreSQL without a
 * sequential scan of the outbox's tables (it reads the partial indexes of
 * live rows, or a primary key). The statements are the adapter's own,
 * recorded as it runs them, then EXPLAINed with their parameters.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { postgresOutbox } from '../../../src/adapters/postgres/outbox-repository.ts'
import { accept } from '../../../src/domain/mail/transition.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'
import { type RecordedQuery, recordingPool, sequentialScans } from '../../support/query-plans.ts'
import { makeEntry, rawOf } from '../lowdb/fixtures.ts'

const HISTORY = 50_000
const OUTBOX_TABLES = new Set(['messages', 'message_bodies', 'idempotency_keys'])

describePostgres('the outbox hot path on PostgreSQL, with a long history', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
    // A long history: finished messages of many accounts, with bodies and keys.
    await db.pool.query(
      `INSERT INTO messages (id, account, from_header, to_addresses, subject, status, created_at,
         next_attempt_at, sent_at, attempts, size, message_id_header, idempotency_key, input_hash)
       SELECT 'old-' || n, 'acct' || (n % 50) || '@example.com', 'a@example.com', ARRAY['b@example.com'],
         'old', CASE WHEN n % 10 = 0 THEN 'failed' ELSE 'sent' END, now() - interval '2 days',
         now() - interval '2 days', now() - interval '2 days', 1, 10, '<old-' || n || '@example.com>',
         'key-' || n, 'hash'
       FROM generate_series(1, ${HISTORY}) n`,
    )
    await db.pool.query(
      `INSERT INTO message_bodies (message_id, raw) SELECT id, '\\x00'::bytea FROM messages`,
    )
    await db.pool.query(
      `INSERT INTO idempotency_keys (namespace, key, message_id, input_hash, created_at)
       SELECT '', idempotency_key, id, input_hash, created_at FROM messages`,
    )
    await db.pool.query('ANALYZE')
  }, 120_000)

  it('plans every statement of accept, claim, renew, settle and wake-up without a sequential scan', async () => {
    const recorded: RecordedQuery[] = []
    const outbox = postgresOutbox(recordingPool(db.pool, recorded), { retentionMs: 30 * 86_400_000 })
    const now = await outbox.now()
    const account = 'acct7@example.com'
    const messages = ['live-1', 'live-2', 'live-3'].map((id, index) => ({
      entry: accept(
        {
          ...makeEntry(id, { account, createdAt: now, updatedAt: now }),
          idempotencyKey: `new-${index}`,
          inputHash: 'h',
        },
        { type: 'accept', at: now, accountConnected: true },
      ),
      raw: rawOf(id),
    }))
    await outbox.accept(messages, { idempotencySince: now - 86_400_000 })
    await outbox.accept(
      [{ entry: { ...messages[0]!.entry, id: 'live-1-again' }, raw: rawOf('live-1-again') }],
      { idempotencySince: now - 86_400_000 },
    )
    await outbox.upcoming()
    const claimed = await outbox.claimDue({ owner: 'r1', account, leaseMs: 60_000, limit: 2 })
    expect(claimed.map((entry) => entry.id)).toEqual(['live-1', 'live-2'])
    expect(await outbox.renew({ owner: 'r1', ids: ['live-1', 'live-2'], leaseMs: 60_000 })).toEqual([])
    await outbox.readRaw('live-1')
    const at = await outbox.now()
    const sent = await outbox.settle({
      owner: 'r1',
      id: 'live-1',
      event: { type: 'sent', at, gmailMessageId: 'g1', gmailThreadId: 't1' },
    })
    expect(sent?.status).toBe('sent')
    await outbox.get('live-2')

    // A short transaction sends BEGIN with its first statement and COMMIT with its last, values inlined.
    const statements = recorded
      .map((each) => ({
        text: each.text
          .replace(/^BEGIN; (SET LOCAL synchronous_commit TO off; )?/, '')
          .replace(/; COMMIT$/, ''),
        values: each.values,
      }))
      .filter((each) => /^\s*(WITH|SELECT|UPDATE|DELETE|INSERT)/i.test(each.text))
    expect(recorded.some((each) => each.text.startsWith('BEGIN; '))).toBe(true)
    expect(statements.length).toBeGreaterThan(5)
    const scans: string[] = []
    for (const statement of statements) {
      const { rows } = await db.pool.query(`EXPLAIN (FORMAT JSON) ${statement.text}`, statement.values)
      const whole = sequentialScans(rows[0]['QUERY PLAN']).filter((table) => OUTBOX_TABLES.has(table))
      if (whole.length > 0) scans.push(`${whole.join(', ')} in: ${statement.text.trim().slice(0, 120)}`)
    }
    expect(scans).toEqual([])
  })
})

describe('sequentialScans', () => {
  it('finds a sequential scan nested in a plan', () => {
    const plan = [
      { Plan: { 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'messages' }] } },
    ]
    expect(sequentialScans(plan)).toEqual(['messages'])
  })
})
