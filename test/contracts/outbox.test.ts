/**
 * The outbox contract (outbox.contract.ts) on the in-memory fake, the
 * lowdb files (real files in a temp dir) and PostgreSQL; and per store what
 * only it can show: a body damaged where it is kept is refused with
 * BODY_DAMAGED (lowdb, PostgreSQL); on PostgreSQL, three replicas (three
 * pools) claiming at once take each message exactly once, and the sweep
 * drops old finished messages in batches and nothing live.
 */
import { readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openOutboxRepository } from '../../src/adapters/lowdb/outbox-store.ts'
import { connectPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { postgresOutbox } from '../../src/adapters/postgres/outbox-repository.ts'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import { makeTempDir } from '../adapters/lowdb/fixtures.ts'
import { memoryOutbox } from '../fakes/repositories.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { outboxContract } from './outbox.contract.ts'
import { ANN, message, messages } from './outbox-messages.ts'

const realClock = { now: () => Date.now() }
const DAY = 86_400_000

describe('the in-memory outbox (fake)', () => {
  outboxContract(async () => ({ outbox: memoryOutbox(realClock) }))
})

describe('the lowdb outbox (files under DATA_DIR)', () => {
  describe('the contract', () => {
    outboxContract(async () => {
      const outbox = await openOutboxRepository({ dataDir: await makeTempDir(), clock: realClock })
      return { outbox, close: () => outbox.close() }
    })
  })

  it('refuses a body cut short or with a flipped byte on disk with BODY_DAMAGED', async () => {
    const dataDir = await makeTempDir()
    const first = await openOutboxRepository({ dataDir, clock: realClock })
    const now = Date.now()
    await first.accept([await message('cut', { at: now }), await message('flipped', { at: now })])
    // Stopped, the store keeps each body as a file of messages/.
    await first.close()
    const outbox = await openOutboxRepository({ dataDir, clock: realClock })
    const bodyPath = (id: string) => join(dataDir, 'messages', `${id}.eml`)
    await truncate(bodyPath('cut'), 10)
    const bytes = await readFile(bodyPath('flipped'))
    bytes[5] = bytes[5]! ^ 0x01
    await writeFile(bodyPath('flipped'), bytes)
    for (const id of ['cut', 'flipped']) {
      await expect(outbox.readRaw(id)).rejects.toMatchObject({ code: 'BODY_DAMAGED', retryable: false })
    }
    await outbox.close()
  })

  it('keeps the id of the accepting key across a reopen: live file, history, and envelopes when outbox.json is lost', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openOutboxRepository({ dataDir, clock: realClock })
    const now = Date.now()
    const live = await message('live-keyed', { at: now - 1_000, apiKeyId: 'key_live' })
    await outbox.accept([live, await message('done-keyed', { at: now, apiKeyId: 'key_done' })])
    await outbox.change('done-keyed', () => ({ type: 'cancel' }))
    await outbox.close()

    const reopened = await openOutboxRepository({ dataDir, clock: realClock })
    expect(await reopened.get('live-keyed')).toEqual(live.entry)
    expect(await reopened.get('done-keyed')).toMatchObject({ status: 'canceled', apiKeyId: 'key_done' })
    await reopened.close()

    await rm(join(dataDir, 'outbox.json'))
    const rebuilt = await openOutboxRepository({ dataDir, clock: realClock })
    expect(await rebuilt.pending()).toEqual([live.entry])
    await rebuilt.close()
  })

  it("lists one key's messages after a reopen, finished ones indexed from the history alone", async () => {
    const dataDir = await makeTempDir()
    const outbox = await openOutboxRepository({ dataDir, clock: realClock })
    const now = Date.now()
    await outbox.accept([
      await message('mine-old', { at: now - 3_000, apiKeyId: 'key_mine' }),
      await message('theirs', { at: now - 2_000, apiKeyId: 'key_theirs' }),
      await message('mine-new', { at: now - 1_000, apiKeyId: 'key_mine' }),
    ])
    await outbox.change('mine-old', () => ({ type: 'cancel' }))
    await outbox.close()

    const reopened = await openOutboxRepository({ dataDir, clock: realClock })
    const page = await reopened.list({ limit: 10, apiKeyId: 'key_mine' })
    expect(page.items.map((entry) => [entry.id, entry.status])).toEqual([
      ['mine-new', 'queued'],
      ['mine-old', 'canceled'],
    ])
    expect(
      (await reopened.list({ limit: 10, apiKeyId: 'key_theirs' })).items.map((entry) => entry.id),
    ).toEqual(['theirs'])
    await reopened.close()
  })
})

describePostgres('the PostgreSQL outbox', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
  })
  const truncateAll = () => db.pool.query('TRUNCATE messages CASCADE')

  describe('the contract', () => {
    outboxContract(async () => {
      await truncateAll()
      const outbox = postgresOutbox(db.pool, { retentionMs: 30 * DAY })
      return { outbox, close: () => outbox.close() }
    })
  })

  describe('what only its rows show', () => {
    beforeEach(truncateAll)

    it('refuses a body cut short or with a flipped byte in message_bodies with BODY_DAMAGED', async () => {
      const outbox = postgresOutbox(db.pool, { retentionMs: 30 * DAY })
      const now = await outbox.now()
      await outbox.accept([await message('cut', { at: now }), await message('flipped', { at: now })])
      await db.pool.query(
        `UPDATE message_bodies SET raw = substring(raw FROM 1 FOR 10) WHERE message_id = 'cut'`,
      )
      await db.pool.query(
        `UPDATE message_bodies SET raw = set_byte(raw, 5, get_byte(raw, 5) # 1) WHERE message_id = 'flipped'`,
      )
      await expect(outbox.readRaw('cut')).rejects.toMatchObject({
        code: 'BODY_DAMAGED',
        message: expect.stringContaining('size 10, expected'),
      })
      await expect(outbox.readRaw('flipped')).rejects.toMatchObject({
        code: 'BODY_DAMAGED',
        message: expect.stringContaining('SHA-256 digest differs'),
      })
    })

    it('drops finished messages older than the retention in batches, with their bodies, and keeps live ones', async () => {
      const statements: string[] = []
      const counting = new Proxy(db.pool, {
        get(target, property, receiver) {
          if (property !== 'query') return Reflect.get(target, property, receiver)
          return (text: string, values?: unknown[]) => {
            statements.push(text)
            return target.query(text, values)
          }
        },
      })
      const outbox = postgresOutbox(counting, { retentionMs: 30 * DAY })
      const now = await outbox.now()
      // Old finished ones (2,500: three batches), and an old one still queued.
      await db.pool.query(
        `INSERT INTO messages (id, account, from_header, to_addresses, subject, status, created_at,
           next_attempt_at, sent_at, attempts, size, message_id_header, updated_at)
         SELECT 'old-' || n, 'ann@example.com', 'ann@example.com', ARRAY['bob@example.com'], 'old',
           (ARRAY['sent', 'failed', 'canceled'])[n % 3 + 1], now() - interval '40 days', now() - interval '40 days',
           CASE WHEN n % 3 = 0 THEN now() - interval '40 days' END, 1, 1, '<old-' || n || '@example.com>',
           now() - interval '40 days'
         FROM generate_series(1, 2500) n`,
      )
      await db.pool.query(
        `INSERT INTO message_bodies (message_id, raw) SELECT id, '\\x00'::bytea FROM messages`,
      )
      await outbox.accept([await message('live-old', { at: now - 40 * DAY })])
      await db.pool.query(`UPDATE messages SET updated_at = now() - interval '40 days' WHERE id = 'live-old'`)
      await outbox.accept([await message('recent', { at: now - 1_000 }), await message('live', { at: now })])
      await outbox.change('recent', () => ({ type: 'cancel' }))

      statements.length = 0
      expect(await outbox.sweep()).toBe(2_500)
      expect(statements.filter((text) => text.includes('DELETE FROM messages')).length).toBe(3)
      const { rows } = await db.pool.query(`SELECT id, status FROM messages ORDER BY seq`)
      expect(rows).toEqual([
        { id: 'live-old', status: 'queued' },
        { id: 'recent', status: 'canceled' },
        { id: 'live', status: 'queued' },
      ])
      const bodies = await db.pool.query(`SELECT message_id FROM message_bodies ORDER BY message_id`)
      expect(bodies.rows.map((row) => row.message_id)).toEqual(['live', 'live-old', 'recent'])
      expect(await outbox.sweep()).toBe(0)
    })
  })

  describe('three replicas on one database', () => {
    const replicas: pg.Pool[] = []
    beforeAll(async () => {
      for (let i = 0; i < 3; i++) replicas.push(await connectPostgres(db.url, { max: 2 }))
    })
    afterAll(async () => {
      await Promise.all(replicas.map((pool) => pool.end()))
    })

    it('claiming and sending 300 due messages at once, take each exactly once', async () => {
      await truncateAll()
      const outboxes = replicas.map((pool) => postgresOutbox(pool, { retentionMs: 30 * DAY }))
      const now = await outboxes[0]!.now()
      const all = await messages('fleet', 300, { at: now - 10_000 })
      for (let start = 0; start < all.length; start += 100) {
        await outboxes[start % 3]!.accept(all.slice(start, start + 100))
      }

      const claimedBy = await Promise.all(
        outboxes.map(async (outbox, replica) => {
          const owner = `replica-${replica}`
          const claimed: OutboxEntry[] = []
          for (;;) {
            const batch = await outbox.claimDue({ owner, account: ANN, leaseMs: 60_000, limit: 7 })
            if (batch.length === 0) return claimed
            claimed.push(...batch)
            for (const entry of batch) {
              const at = await outbox.now()
              const sent = await outbox.settle({
                owner,
                id: entry.id,
                event: { type: 'sent', at, gmailMessageId: `g-${entry.id}`, gmailThreadId: 't' },
              })
              expect(sent?.status).toBe('sent')
            }
          }
        }),
      )
      // All three took part (about 100 each when measured), so the race was real.
      for (const mine of claimedBy) expect(mine.length).toBeGreaterThan(0)
      const claimed = claimedBy.flat()
      expect(claimed).toHaveLength(300)
      expect(new Set(claimed.map((entry) => entry.id)).size).toBe(300)
      expect(claimed.every((entry) => entry.attempts === 1)).toBe(true)
      const counts = await outboxes[1]!.countByStatus()
      expect(counts).toMatchObject({ sent: 300, queued: 0, sending: 0 })
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM messages WHERE attempts <> 1`)
      expect(rows[0].n).toBe(0)
    })
  })
})
