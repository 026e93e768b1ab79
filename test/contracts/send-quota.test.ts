/**
 * The send-quota contract on the in-memory quota and on PostgreSQL, and on
 * PostgreSQL what only a shared store can show: three replicas (three
 * pools) reserving at once for one account never get more than the rate.
 */
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { postgresSendQuota } from '../../src/adapters/postgres/send-quota.ts'
import { memorySendQuota } from '../../src/app/delivery/memory-send-quota.ts'
import { gcraRate } from '../../src/domain/delivery/gcra.ts'
import { DAY_MS } from '../../src/domain/delivery/pacing.ts'
import type { SendQuotaPort } from '../../src/domain/ports.ts'
import { manualTime } from '../fakes/clock.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { sendQuotaContract } from './send-quota.contract.ts'

describe('the in-memory send quota', () => {
  const time = manualTime()
  const quota = memorySendQuota(time)
  sendQuotaContract(() => quota)

  it('grants again once the oldest send has left the 24 h window', async () => {
    const limits = { perMinute: 0, perDay: 2 }
    const reserve = (messageId: string) => quota.reserve({ account: 'roll@example.com', messageId, limits })
    await reserve('a')
    time.set(time.now() + 60_000)
    await reserve('b')
    const refused = await reserve('c')
    expect(refused.granted).toBe(false)
    time.set(time.now() - 60_000 + DAY_MS + 1)
    expect(await reserve('c')).toEqual({ granted: true, at: time.now() })
    expect(await quota.sentToday('roll@example.com')).toBe(2)
  })
})

describePostgres('the send quota on PostgreSQL', () => {
  const db = useTestDatabase()
  let quota: SendQuotaPort
  beforeAll(async () => {
    await migrate(db.pool)
    quota = postgresSendQuota(db.pool)
  })
  sendQuotaContract(() => quota)

  it('prunes sends older than 24 h, so that daily_sends holds a day, not the history', async () => {
    await db.pool.query(
      `INSERT INTO daily_sends (account, message_id, sent_at)
       SELECT 'old@example.com', 'old-' || n, now() - interval '25 hours' FROM generate_series(1, 50) n`,
    )
    const limits = { perMinute: 0, perDay: 10 }
    expect((await quota.reserve({ account: 'old@example.com', messageId: 'new', limits })).granted).toBe(true)
    const { rows } = await db.pool.query(
      `SELECT message_id FROM daily_sends WHERE account = 'old@example.com'`,
    )
    expect(rows.map((row) => row.message_id)).toEqual(['new'])
  })

  describe('three replicas on one database', () => {
    const replicas: pg.Pool[] = []
    beforeAll(async () => {
      for (let i = 0; i < 3; i++) replicas.push(await connectPostgres(db.url, { max: 2 }))
    })
    afterAll(async () => {
      await Promise.all(replicas.map((pool) => pool.end()))
    })

    it('together never get more than the rate allows in any window, nor more than the day', async () => {
      const limits = { perMinute: 600, perDay: 800 }
      const rate = gcraRate(limits)!
      const account = 'fleet@example.com'
      const granted: number[] = []
      let refused = 0
      await Promise.all(
        replicas.map(async (pool, replica) => {
          const quota = postgresSendQuota(pool)
          for (let i = 0; i < 300; i++) {
            const reservation = await quota.reserve({ account, messageId: `r${replica}-${i}`, limits })
            if (reservation.granted) granted.push(reservation.at)
            else refused++
          }
        }),
      )
      expect(granted).toHaveLength(800)
      expect(refused).toBe(100)
      granted.sort((a, b) => a - b)
      const countFrom = (index: number, windowMs: number) => {
        const start = granted[index] ?? 0
        let count = 0
        for (let j = index; j < granted.length && (granted[j] ?? 0) < start + windowMs; j++) count++
        return count
      }
      let busiestMinute = 0
      let busiestSecond = 0
      for (let i = 0; i < granted.length; i++) {
        busiestMinute = Math.max(busiestMinute, countFrom(i, 61_000))
        busiestSecond = Math.max(busiestSecond, countFrom(i, 1_000))
      }
      // 800 sends span more than a minute: the minute window is really tested.
      expect((granted.at(-1) ?? 0) - (granted[0] ?? 0)).toBeGreaterThan(61_000)
      expect(busiestMinute).toBeLessThanOrEqual(600)
      // A second holds the burst plus what the rate adds, not more.
      expect(busiestSecond).toBeLessThan(rate.burst + 1_000 / rate.intervalMs)
    })
  })
})
