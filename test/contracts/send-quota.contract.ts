/**
 * What every SendQuotaPort promises, whatever keeps the state: run on the
 * in-memory quota and on PostgreSQL (send-quota.test.ts). Assertions are on
 * the granted times relative to each other, so that they hold for a manual
 * clock and for the database's real one alike.
 */
import { expect, it } from 'vitest'
import { gcraRate } from '../../src/domain/delivery/gcra.ts'
import { DAY_MS, type PacingLimits } from '../../src/domain/delivery/pacing.ts'
import type { SendQuotaPort, SendReservation } from '../../src/domain/ports.ts'

/** 60 a minute: 2 back to back, then one every 61 000 / 59 ms. */
const LIMITS: PacingLimits = { perMinute: 60, perDay: 0 }
const INTERVAL = gcraRate(LIMITS)!.intervalMs

function grantedAt(reservation: SendReservation): number {
  if (!reservation.granted) throw new Error(`refused until ${reservation.retryAt}`)
  return reservation.at
}

export function sendQuotaContract(quota: () => SendQuotaPort): void {
  const reserveMany = async (account: string, count: number, limits = LIMITS) => {
    const times: number[] = []
    for (let i = 0; i < count; i++) {
      times.push(grantedAt(await quota().reserve({ account, messageId: `${account}-${i}`, limits })))
    }
    return times
  }

  it('lets a burst go at once, then spaces reservations by the rate', async () => {
    const times = await reserveMany('spaced@example.com', 5)
    const [first = 0] = times
    // The burst (2 at 60 a minute): no wait beyond the time the calls took.
    expect((times[1] ?? 0) - first).toBeLessThan(INTERVAL / 2)
    // Then one interval apart, counted from the first send, whatever the calls took.
    expect((times[2] ?? 0) - first).toBeCloseTo(INTERVAL, 1)
    expect((times[3] ?? 0) - (times[2] ?? 0)).toBeCloseTo(INTERVAL, 1)
    expect((times[4] ?? 0) - (times[3] ?? 0)).toBeCloseTo(INTERVAL, 1)
  })

  it('pushes every later reservation past a block, and resumes without a burst', async () => {
    const account = 'blocked@example.com'
    const [first = 0] = await reserveMany(account, 1)
    const until = first + 30_000
    await quota().block(account, until, LIMITS)
    const after = await reserveMany(account, 3)
    expect(after[0]).toBeGreaterThanOrEqual(until)
    expect((after[1] ?? 0) - (after[0] ?? 0)).toBeCloseTo(INTERVAL, 1)
    expect((after[2] ?? 0) - (after[1] ?? 0)).toBeCloseTo(INTERVAL, 1)
    // An earlier block does not shorten a later one.
    await quota().block(account, first + 1_000, LIMITS)
    const [next = 0] = await reserveMany(account, 1)
    expect(next).toBeGreaterThan(after[2] ?? 0)
  })

  it('blocks one account only', async () => {
    const [first = 0] = await reserveMany('slow@example.com', 1)
    await quota().block('slow@example.com', first + 60_000, LIMITS)
    const [other = 0] = await reserveMany('fast@example.com', 1)
    expect(other).toBeLessThan(first + 60_000)
  })

  it('refuses past the daily budget until the oldest send leaves the 24 h window', async () => {
    const account = 'daily@example.com'
    const limits = { perMinute: 0, perDay: 3 }
    const times = await reserveMany(account, 3, limits)
    const refused = await quota().reserve({ account, messageId: 'one-too-many', limits })
    expect(refused).toMatchObject({ granted: false, reason: 'daily_limit' })
    if (refused.granted) return
    expect(refused.retryAt).toBeCloseTo((times[0] ?? 0) + DAY_MS + 1, 0)
    expect(await quota().sentToday(account)).toBe(3)
    // A retry of a message already counted is no new send.
    const retry = await quota().reserve({ account, messageId: `${account}-1`, limits })
    expect(retry.granted).toBe(true)
    expect(await quota().sentToday(account)).toBe(3)
  })

  it('counts nothing for an account never reserved', async () => {
    expect(await quota().sentToday('nobody@example.com')).toBe(0)
  })
}
