/**
 * The refresh coordinator on PostgreSQL: refreshes of one account take
 * turns across pools (replicas), a failed one lets the next go, a holder
 * that takes too long is not waited for beyond the lock timeout, and an
 * unreachable database is SERVICE_UNAVAILABLE.
 */
import type pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { connectPostgres, openPostgres } from '../../../src/adapters/postgres/connect.ts'
import { postgresRefreshCoordinator } from '../../../src/adapters/postgres/refresh-coordinator.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describePostgres('postgresRefreshCoordinator', () => {
  const db = useTestDatabase()
  const pools: pg.Pool[] = []
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) pools.push(await connectPostgres(db.url, { max: 2 }))
  })
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()))
  })

  it('runs the refreshes of one account one at a time across replicas, other accounts meanwhile', async () => {
    const coordinators = pools.map((pool) => postgresRefreshCoordinator(pool))
    let inside = 0
    let most = 0
    const spans: Record<string, Array<[number, number]>> = {}
    const work = (account: string) => async () => {
      inside++
      most = Math.max(most, inside)
      const start = performance.now()
      await pause(40)
      inside--
      spans[account] = [...(spans[account] ?? []), [start, performance.now()]]
      return account
    }
    const results = await Promise.all(
      coordinators.flatMap((coordinator) => [
        coordinator.run('ann@example.com', work('ann@example.com')),
        coordinator.run('bob@example.com', work('bob@example.com')),
      ]),
    )
    expect(results).toEqual(Array.from({ length: 3 }, () => ['ann@example.com', 'bob@example.com']).flat())
    for (const account of ['ann@example.com', 'bob@example.com']) {
      const sorted = (spans[account] ?? []).sort((a, b) => a[0] - b[0])
      expect(sorted).toHaveLength(3)
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]![0]).toBeGreaterThanOrEqual(sorted[i - 1]![1])
    }
    // Two accounts went side by side.
    expect(most).toBe(2)
  })

  const refreshLocksHeld = async () => {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND classid = $1 AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [0x676d_6103],
    )
    return rows[0].n as number
  }

  it('gives back what the work returned, and lets the next go after a work that failed', async () => {
    const [first, second] = pools.map((pool) => postgresRefreshCoordinator(pool))
    const failed = first!.run('carol@example.com', async () => {
      await pause(20)
      throw new Error('Google said no')
    })
    const next = second!.run(
      'carol@example.com',
      async () => `refreshed under ${await refreshLocksHeld()} lock`,
    )
    await expect(failed).rejects.toThrow('Google said no')
    await expect(next).resolves.toBe('refreshed under 1 lock')
    // Nothing is left locked once the runs are over.
    expect(await refreshLocksHeld()).toBe(0)
  })

  it('runs the work without the lock once it waited the lock timeout for a stuck holder', async () => {
    const holder = await pools[0]!.connect()
    try {
      await holder.query('BEGIN')
      await holder.query(`SELECT pg_advisory_xact_lock($1, hashtext('dan@example.com'))`, [0x676d_6103])
      const started = performance.now()
      const coordinator = postgresRefreshCoordinator(pools[1]!, { lockTimeoutMs: 200 })
      await expect(coordinator.run('dan@example.com', async () => 'went anyway')).resolves.toBe('went anyway')
      expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    } finally {
      await holder.query('ROLLBACK')
      holder.release()
    }
  })

  it('answers SERVICE_UNAVAILABLE when the database cannot be reached, without running the work', async () => {
    const pool = openPostgres('postgres://postgres@127.0.0.1:1/nowhere', { connectTimeoutMs: 2_000 })
    let ran = false
    try {
      await expect(
        postgresRefreshCoordinator(pool).run('ann@example.com', async () => {
          ran = true
        }),
      ).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true })
      expect(ran).toBe(false)
    } finally {
      await pool.end()
    }
  })
})
