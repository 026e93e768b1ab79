/**
 * The webhook-store contract (webhook-store.contract.ts) on the in-memory
 * fake, the lowdb files (real files in a temp dir) and PostgreSQL; and per
 * store what only it can show: lowdb keeps what it writes bounded and
 * frees claims on a restart; PostgreSQL sweeps old rows and lets replicas
 * claiming at once take each delivery once.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenCipher } from '../../src/adapters/lowdb/token-cipher.ts'
import { openWebhookStore } from '../../src/adapters/lowdb/webhook-store.ts'
import { connectPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { postgresWebhookStore } from '../../src/adapters/postgres/webhook-store.ts'
import { makeTempDir, textUnder } from '../adapters/lowdb/fixtures.ts'
import { memoryWebhookStore } from '../fakes/webhooks.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { webhookStoreContract } from './webhook-store.contract.ts'

const cipher = createTokenCipher([new Uint8Array(32).fill(5)])
const clock = { now: () => Date.now() }

describe('the in-memory webhook store (fake)', () => {
  webhookStoreContract(async () => ({ store: memoryWebhookStore() }))
})

describe('the lowdb webhook store (webhooks.json, webhook-deliveries.json)', () => {
  webhookStoreContract(async () => {
    const dataDir = await makeTempDir()
    const opened = [await openWebhookStore({ dataDir, cipher, clock })]
    return {
      store: opened[0]!,
      async reopen() {
        await opened.at(-1)!.close()
        const next = await openWebhookStore({ dataDir, cipher, clock })
        opened.push(next)
        return next
      },
      async rawText() {
        await Promise.all(opened.map((store) => store.close()))
        return await textUnder(dataDir)
      },
      close: async () => {
        await Promise.all(opened.map((store) => store.close()))
      },
    }
  })
})

describePostgres('the PostgreSQL webhook store', () => {
  const db = useTestDatabase()
  const pools: pg.Pool[] = []
  beforeAll(async () => {
    await migrate(db.pool)
  })
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()))
  })
  const truncate = () =>
    db.pool.query('TRUNCATE webhook_attempts, webhook_deliveries, webhook_events, webhook_endpoints')
  const options = { sweepEveryMs: Number.POSITIVE_INFINITY }

  describe('the contract', () => {
    webhookStoreContract(async () => {
      await truncate()
      return {
        store: postgresWebhookStore(db.pool, cipher, options),
        // Another pool: what a restarted replica, or another one, sees.
        async reopen() {
          const pool = await connectPostgres(db.url, { max: 2 })
          pools.push(pool)
          return postgresWebhookStore(pool, cipher, options)
        },
        async rawText() {
          const tables = ['webhook_endpoints', 'webhook_events', 'webhook_deliveries', 'webhook_attempts']
          const texts: string[] = []
          for (const table of tables) {
            const { rows } = await db.pool.query(`SELECT row_to_json(t)::text AS row FROM ${table} t`)
            texts.push(...rows.map((row) => row.row as string))
          }
          return texts.join('\n')
        },
      }
    })
  })

  it('claims each due delivery once when three replicas claim at once', async () => {
    await truncate()
    const replicas: pg.Pool[] = []
    for (let i = 0; i < 3; i++) replicas.push(await connectPostgres(db.url, { max: 2 }))
    pools.push(...replicas)
    const stores = replicas.map((pool) => postgresWebhookStore(pool, cipher, options))
    const now = Date.now()
    await stores[0]!.createEndpoint({
      id: 'wh_fleet',
      url: 'https://hooks.example.com/fleet',
      events: [],
      secret: 'whsec_ZmxlZXQ=',
      createdAt: now,
    })
    const events = Array.from({ length: 150 }, (_, n) => ({
      id: `evt_fleet_${n}`,
      type: 'mail.sent' as const,
      at: now,
      data: { n },
    }))
    await stores[0]!.publish(events, now)
    const claimedBy = await Promise.all(
      stores.map(async (store, replica) => {
        const ids: string[] = []
        for (;;) {
          const jobs = await store.claimDue({ owner: `r${replica}`, now, leaseMs: 60_000, limit: 5 })
          if (jobs.length === 0) return ids
          ids.push(...jobs.map((job) => job.event.id))
        }
      }),
    )
    const all = claimedBy.flat()
    expect(all).toHaveLength(150)
    expect(new Set(all).size).toBe(150)
    for (const mine of claimedBy) expect(mine.length).toBeGreaterThan(0)
  })

  it('sweeps finished deliveries, attempts and unneeded events older than the retention, and nothing live', async () => {
    await truncate()
    const store = postgresWebhookStore(db.pool, cipher, { retentionMs: 86_400_000, ...options })
    const now = Date.now()
    await store.createEndpoint({
      id: 'wh_s',
      url: 'https://hooks.example.com/s',
      events: [],
      secret: 'whsec_cw==',
      createdAt: now,
    })
    await store.publish(
      [
        { id: 'evt_old', type: 'mail.sent', at: now, data: {} },
        { id: 'evt_live', type: 'mail.sent', at: now, data: {} },
      ],
      now,
    )
    const jobs = await store.claimDue({ owner: 'a', now, leaseMs: 1_000, limit: 10 })
    const old = jobs.find((job) => job.event.id === 'evt_old')!
    await store.settle({
      owner: 'a',
      deliveryId: old.id,
      attempt: {
        deliveryId: old.id,
        endpointId: 'wh_s',
        eventId: 'evt_old',
        eventType: 'mail.sent',
        at: now,
        status: 204,
        ok: true,
        durationMs: 3,
      },
      next: { done: 'delivered' },
    })
    await db.pool.query(
      `UPDATE webhook_deliveries SET finished_at = now() - interval '2 days' WHERE finished IS NOT NULL`,
    )
    await db.pool.query(`UPDATE webhook_attempts SET at = now() - interval '2 days'`)
    await db.pool.query(`UPDATE webhook_events SET at = now() - interval '2 days'`)

    expect(await store.sweep()).toBe(3)
    const { rows } = await db.pool.query(
      `SELECT (SELECT array_agg(id) FROM webhook_events) AS events,
              (SELECT count(*)::int FROM webhook_deliveries) AS deliveries,
              (SELECT count(*)::int FROM webhook_attempts) AS attempts`,
    )
    expect(rows[0]).toEqual({ events: ['evt_live'], deliveries: 1, attempts: 0 })
    expect(await store.pendingCount()).toBe(1)
  })
})
