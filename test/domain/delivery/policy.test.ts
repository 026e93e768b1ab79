import { describe, expect, it } from 'vitest'
import { decideAfterFailure } from '../../../src/domain/delivery/after-failure.ts'
import { retryDelay } from '../../../src/domain/delivery/backoff.ts'
import { DAY_MS, nextSendTime, sendWindows } from '../../../src/domain/delivery/pacing.ts'

describe('retryDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const top = () => 0.999_999
    expect(retryDelay(1, top)).toBeLessThanOrEqual(1_000)
    expect(retryDelay(4, top)).toBeGreaterThan(7_000)
    expect(retryDelay(30, top)).toBeLessThanOrEqual(300_000)
    expect(retryDelay(5, () => 0)).toBe(0)
  })

  it('never retries before a Retry-After', () => {
    expect(retryDelay(1, () => 0, { retryAfterMs: 30_000 })).toBe(30_000)
  })
})

describe('decideAfterFailure', () => {
  const context = { attempts: 1, since: 0, now: 1_000, giveUpAfterMs: 86_400_000, random: () => 0.5 }

  it('retries a rate limit later', () => {
    const decision = decideAfterFailure(
      { code: 'GMAIL_RATE_LIMITED', message: '', retryable: true, retryAfterMs: 5_000 },
      context,
    )
    expect(decision).toEqual({ kind: 'retry', at: 6_000 })
  })

  it('fails a rejected message at once', () => {
    expect(decideAfterFailure({ code: 'GMAIL_REJECTED', message: '', retryable: false }, context)).toEqual({
      kind: 'fail',
    })
  })

  it('fails a message whose stored body is damaged at once, even if marked retryable', () => {
    expect(decideAfterFailure({ code: 'BODY_DAMAGED', message: '', retryable: true }, context)).toEqual({
      kind: 'fail',
    })
  })

  it('holds a message whose account needs reauthorization', () => {
    expect(
      decideAfterFailure({ code: 'REAUTHORIZATION_REQUIRED', message: '', retryable: false }, context),
    ).toEqual({
      kind: 'hold',
    })
  })

  it('gives up on retryable errors after the configured time', () => {
    const late = { ...context, now: 86_400_000 }
    expect(decideAfterFailure({ code: 'GMAIL_UNAVAILABLE', message: '', retryable: true }, late)).toEqual({
      kind: 'fail',
    })
  })
})

describe('pacing', () => {
  const windows = sendWindows({ perMinute: 60, perDay: 2000 })

  it('allows a send at once when nothing was sent', () => {
    expect(nextSendTime([], 1_000, windows)).toBe(1_000)
  })

  it('never lets more than the per-minute quota into any minute over a long simulated run', () => {
    const times: number[] = []
    let now = 0
    while (times.length < 600) {
      const slot = nextSendTime(times, now, windows)
      now = slot
      times.push(now)
    }
    for (let i = 60; i < times.length; i++) expect(times[i]! - times[i - 60]!).toBeGreaterThan(60_000)
    // Sustained rate stays close to the quota (60 a minute): 600 sends take under 10.5 minutes.
    expect(times[599]! - times[0]!).toBeLessThan(630_000)
  })

  it('keeps the daily budget in a rolling 24 hours', () => {
    const daily = sendWindows({ perMinute: 0, perDay: 3 })
    expect(nextSendTime([10, 20, 30], 40, daily)).toBe(10 + DAY_MS + 1)
    expect(nextSendTime([10, 20], 40, daily)).toBe(40)
  })

  it('turns pacing off with zero limits', () => {
    expect(sendWindows({ perMinute: 0, perDay: 0 })).toEqual([])
  })
})
