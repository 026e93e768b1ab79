/**
 * What every RequestBudget promises, whatever keeps the buckets: run on the
 * in-memory budget (a manual clock) and on PostgreSQL (the database's
 * clock, which moves on by itself: waits are checked to within `SLACK_MS`
 * below the exact value, never above it).
 */
import { expect, it } from 'vitest'
import type { RequestBudget } from '../../src/domain/ports.ts'

/** 60 units a minute: one a second; bursts of 3. */
const LIMITS = { perMinute: 60, burst: 3 }
const UNIT_MS = 1_000
/** How much real time the calls of one test may take on a busy machine. */
const SLACK_MS = 300

export interface BudgetHarness {
  make(limits: { perMinute: number; burst?: number }): Promise<RequestBudget>
  /** Lets `ms` pass for every key's bucket. */
  elapse(ms: number): Promise<void>
}

let counter = 0
const newKey = () => `key-${++counter}-${crypto.randomUUID().slice(0, 8)}`

/** A wait of about `ms`: at most that, and less only by the time the calls took. */
const expectWait = (actual: number, ms: number) => {
  expect(actual).toBeLessThanOrEqual(ms)
  expect(actual).toBeGreaterThan(ms - SLACK_MS)
}

export function requestBudgetContract(harness: BudgetHarness): void {
  it('lets a burst through, then says how long until one unit is back', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    expect([await budget.take(key), await budget.take(key), await budget.take(key)]).toEqual([0, 0, 0])
    expectWait(await budget.take(key), UNIT_MS)
  })

  it('takes nothing for a refused request', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    await budget.take(key, 3)
    const first = await budget.take(key)
    const second = await budget.take(key)
    expectWait(first, UNIT_MS)
    expectWait(second, first)
  })

  it('refills at the rate', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    await budget.take(key, 3)
    await harness.elapse(UNIT_MS)
    expect(await budget.take(key)).toBe(0)
    expectWait(await budget.take(key), UNIT_MS)
    await harness.elapse(3 * UNIT_MS)
    expect(await budget.take(key, 3)).toBe(0)
  })

  it('never holds more than the burst, however long a key was idle', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    await budget.take(key)
    await harness.elapse(60 * UNIT_MS)
    expect(await budget.take(key, 3)).toBe(0)
    expectWait(await budget.take(key), UNIT_MS)
  })

  it('charges a cost of several units at once', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    expect(await budget.take(key, 2)).toBe(0)
    expect(await budget.take(key)).toBe(0)
    expectWait(await budget.take(key), UNIT_MS)
  })

  it('lets a cost above the burst pass from a full bucket, leaving it in debt', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    expect(await budget.take(key, 10)).toBe(0)
    // 3 - 10 = -7 units: 8 seconds until one is there.
    expectWait(await budget.take(key), 8 * UNIT_MS)
    await harness.elapse(8 * UNIT_MS)
    expect(await budget.take(key)).toBe(0)
  })

  it('refuses a cost above the burst from a bucket not full, until it is', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    await budget.take(key)
    expectWait(await budget.take(key, 10), UNIT_MS)
    await harness.elapse(UNIT_MS)
    expect(await budget.take(key, 10)).toBe(0)
  })

  it('extends an admitted request as if the whole had been asked at once', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    expect(await budget.take(key, 1)).toBe(0)
    expect(await budget.extend(key, 1, 1)).toBe(0)
    // 2 of 3 taken: a request of 1 + 2 would not have passed now.
    const refused = await budget.extend(key, 2, 1)
    expectWait(refused, UNIT_MS)
    // Refused: nothing more was taken, the last unit is still there.
    expect(await budget.take(key)).toBe(0)
    expectWait(await budget.take(key), UNIT_MS)
  })

  it('extends a request admitted from a full bucket past the burst, into debt', async () => {
    const budget = await harness.make(LIMITS)
    const key = newKey()
    expect(await budget.take(key, 3)).toBe(0)
    expect(await budget.extend(key, 5, 3)).toBe(0)
    // 3 - 8 = -5 units: 6 seconds until one is there.
    expectWait(await budget.take(key), 6 * UNIT_MS)
  })

  it('keeps one budget per key', async () => {
    const budget = await harness.make(LIMITS)
    const spent = newKey()
    await budget.take(spent, 3)
    expect(await budget.take(spent)).toBeGreaterThan(0)
    expect(await budget.take(newKey(), 3)).toBe(0)
  })

  it('allows everything when the rate is off, and charges nothing for a zero cost', async () => {
    const off = await harness.make({ perMinute: 0 })
    const key = newKey()
    for (let i = 0; i < 5; i++) expect(await off.take(key, 100)).toBe(0)
    const budget = await harness.make(LIMITS)
    await budget.take(key, 3)
    expect(await budget.take(key, 0)).toBe(0)
    expect(await budget.extend(key, 0, 3)).toBe(0)
  })

  it('charges a key with its own limits instead of the default, and others by the default', async () => {
    const budget = await harness.make(LIMITS)
    const own = { perMinute: 6, burst: 2 }
    const key = newKey()
    expect([await budget.take(key, 1, own), await budget.take(key, 1, own)]).toEqual([0, 0])
    // Its burst of 2 is spent; one unit comes back every 10 s, not every second.
    expectWait(await budget.take(key, 1, own), 10 * UNIT_MS)
    expectWait(await budget.extend(key, 1, 1, own), 10 * UNIT_MS)
    await harness.elapse(10 * UNIT_MS)
    expect(await budget.take(key, 1, own)).toBe(0)
    // A key without limits of its own keeps the default's burst of 3.
    const other = newKey()
    expect([await budget.take(other), await budget.take(other), await budget.take(other)]).toEqual([0, 0, 0])
    expectWait(await budget.take(other), UNIT_MS)
  })

  it('limits a key with its own rate even when the default is off, with a third of it as burst', async () => {
    const off = await harness.make({ perMinute: 0 })
    const key = newKey()
    expect(await off.take(key, 10, { perMinute: 30 })).toBe(0)
    // 30 a minute: a burst of 10, one unit every 2 s.
    expectWait(await off.take(key, 1, { perMinute: 30 }), 2 * UNIT_MS)
    expect(await off.take(newKey(), 100)).toBe(0)
  })

  it('gives a default burst of a third of the rate', async () => {
    const budget = await harness.make({ perMinute: 9 })
    const key = newKey()
    expect(await budget.take(key, 3)).toBe(0)
    expectWait(await budget.take(key), Math.ceil(60_000 / 9))
  })
}
