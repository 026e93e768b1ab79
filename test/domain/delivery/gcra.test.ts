import { describe, expect, it } from 'vitest'
import {
  blockUntil,
  dailyDeferral,
  gcraRate,
  type PacingState,
  reserveSlot,
} from '../../../src/domain/delivery/gcra.ts'
import { DAY_MS, type PacingLimits } from '../../../src/domain/delivery/pacing.ts'

/** Reserves `count` sends, asking at each of `askTimes` (the last one repeated). */
function schedule(limits: PacingLimits, count: number, askAt: (index: number) => number): number[] {
  const rate = gcraRate(limits)
  let state: PacingState = {}
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const { at, next } = reserveSlot(state, askAt(i), rate)
    state = next
    times.push(at)
  }
  return times
}

function busiest(times: number[], windowMs: number): number {
  let most = 0
  for (let i = 0; i < times.length; i++) {
    let count = 0
    for (let j = i; j < times.length && (times[j] ?? 0) < (times[i] ?? 0) + windowMs; j++) count++
    most = Math.max(most, count)
  }
  return most
}

describe('GCRA pacing', () => {
  it('keeps the burst of the in-memory pacing: 2 seconds worth, at least one', () => {
    expect(gcraRate({ perMinute: 60, perDay: 0 })?.burst).toBe(2)
    expect(gcraRate({ perMinute: 600, perDay: 0 })?.burst).toBe(20)
    expect(gcraRate({ perMinute: 10, perDay: 0 })?.burst).toBe(1)
    expect(gcraRate({ perMinute: 60, perDay: 0, burst: 5 })?.burst).toBe(5)
    expect(gcraRate({ perMinute: 0, perDay: 100 })).toBeUndefined()
  })

  it('lets the burst go at once, then one send per interval', () => {
    const limits = { perMinute: 60, perDay: 0 }
    const interval = gcraRate(limits)?.intervalMs ?? 0
    const times = schedule(limits, 5, () => 0)
    const expected = [0, 0, interval, 2 * interval, 3 * interval]
    for (const [index, at] of expected.entries()) expect(times[index]).toBeCloseTo(at, 6)
  })

  it.each([1, 60, 600, 6000])(
    'never lets %i a minute become more in any minute plus the margin',
    (perMinute) => {
      const limits = { perMinute, perDay: 0 }
      // Asked all at once, and asked in waves with pauses that refill the burst.
      const atOnce = schedule(limits, perMinute * 3, () => 0)
      const waves = schedule(limits, perMinute * 3, (i) => Math.floor(i / 7) * 7_000)
      for (const times of [atOnce, waves]) expect(busiest(times, 61_000)).toBeLessThanOrEqual(perMinute)
      // And it still sends at 0.95 of the rate or better when busy.
      const span = (atOnce.at(-1) ?? 0) - (atOnce[0] ?? 0)
      expect((atOnce.length - 1) / (span / 60_000)).toBeGreaterThanOrEqual(0.95 * perMinute)
    },
  )

  it('refills the burst after an idle time, never beyond it', () => {
    const limits = { perMinute: 60, perDay: 0 }
    const times = schedule(limits, 6, (i) => (i < 2 ? 0 : 600_000))
    expect(times.slice(2, 5)).toEqual([600_000, 600_000, 600_000 + (gcraRate(limits)?.intervalMs ?? 0)])
  })

  it('sends nothing before a block, and resumes one interval apart', () => {
    const limits = { perMinute: 60, perDay: 0 }
    const rate = gcraRate(limits)
    const interval = rate?.intervalMs ?? 0
    const blocked = blockUntil({ tat: 1_000 }, 30_000, rate)
    const first = reserveSlot(blocked, 5_000, rate)
    const second = reserveSlot(first.next, 5_000, rate)
    expect([first.at, second.at]).toEqual([30_000, 30_000 + interval])
    // A shorter block later does not shorten it.
    expect(blockUntil(blocked, 10_000, rate).blockedUntil).toBe(30_000)
  })

  it('only waits out a block when per-minute pacing is off', () => {
    const blocked = blockUntil({}, 30_000, undefined)
    expect(reserveSlot(blocked, 5_000, undefined).at).toBe(30_000)
    expect(reserveSlot(blocked, 40_000, undefined).at).toBe(40_000)
  })

  it('defers past the daily budget to just after the oldest send leaves the day', () => {
    expect(dailyDeferral(2, 1_000, 5_000, 3)).toBeUndefined()
    expect(dailyDeferral(3, 1_000, 5_000, 3)).toBe(1_000 + DAY_MS + 1)
    expect(dailyDeferral(10, 1_000, 5_000, 0)).toBeUndefined()
  })
})
