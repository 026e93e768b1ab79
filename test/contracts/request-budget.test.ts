/**
 * The RequestBudget contract on the in-memory budget (a manual clock) and
 * on PostgreSQL (the database's clock; time is made to pass for a bucket
 * by moving its row's `next_at` back, which is the same thing for GCRA),
 * and on PostgreSQL what only a shared store can show: three replicas
 * (three pools) spending one key's budget at once never get more than the
 * burst plus what the rate adds while they run.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectPostgres, openPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { postgresRequestBudget } from '../../src/adapters/postgres/request-budget.ts'
import { memoryRequestBudget } from '../../src/app/memory-request-budget.ts'
import { manualTime } from '../fakes/clock.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { requestBudgetContract } from './request-budget.contract.ts'

describe('the in-memory request budget', () => {
  const time = manualTime()
  requestBudgetContract({
    make: async (limits) => memoryRequestBudget({ ...limits, clock: time }),
    elapse: (ms) => time.advance(ms),
  })
})

describe('the request budget on an unreachable PostgreSQL', () => {
  it('refuses with SERVICE_UNAVAILABLE instead of letting the request through', async () => {
    const pool = openPostgres('postgres://postgres@127.0.0.1:1/none', { connectTimeoutMs: 1_000 })
    try {
      const budget = postgresRequestBudget(pool, { perMinute: 60, burst: 3 })
      await expect(budget.take('key')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true })
      await expect(budget.extend('key', 2, 1)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' })
    } finally {
      await pool.end()
    }
  })
})

describePostgres('the request budget on PostgreSQL', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
  })
  requestBudgetContract({
    make: async (limits) => postgresRequestBudget(db.pool, limits),
    elapse: async (ms) => {
      await db.pool.query(
        `UPDATE rate_budgets SET next_at = next_at - $1::float8 * interval '1 millisecond'`,
        [ms],
      )
    },
  })

  it('keeps one row per key id, left as it was by a refused request', async () => {
    const budget = postgresRequestBudget(db.pool, { perMinute: 60, burst: 3 })
    await budget.take('row-key', 3)
    const read = async () =>
      (await db.pool.query('SELECT key_id, next_at FROM rate_budgets WHERE key_id = $1', ['row-key'])).rows
    const before = await read()
    expect(await budget.take('row-key')).toBeGreaterThan(0)
    expect(await budget.extend('row-key', 2, 1)).toBeGreaterThan(0)
    expect(await read()).toEqual(before)
    expect(before).toHaveLength(1)
  })

  describe('three replicas on one database', () => {
    const replicas: pg.Pool[] = []
    beforeAll(async () => {
      for (let i = 0; i < 3; i++) replicas.push(await connectPostgres(db.url, { max: 2 }))
    })
    afterAll(async () => {
      await Promise.all(replicas.map((pool) => pool.end()))
    })

    it('together never get more than the burst plus the rate while they run', async () => {
      // 6,000 a minute: one unit every 10 ms, 20 at once.
      const limits = { perMinute: 6_000, burst: 20 }
      const unitMs = 10
      const key = 'shared-key'
      let allowed = 0
      const started = performance.now()
      await Promise.all(
        replicas.flatMap((pool) => {
          const budget = postgresRequestBudget(pool, limits)
          return [0, 1].map(async () => {
            while (performance.now() - started < 600) {
              const wait = await budget.take(key)
              if (wait === 0) allowed++
              else await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 3)))
            }
          })
        }),
      )
      const elapsed = performance.now() - started
      expect(allowed).toBeLessThanOrEqual(limits.burst + elapsed / unitMs)
      // Not starved either: the replicas got most of what the rate allowed.
      expect(allowed).toBeGreaterThan(limits.burst + (0.5 * 600) / unitMs)
    })
  })
})
