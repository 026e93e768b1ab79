import { describe, expect, it } from 'vitest'
import {
  afterAttempt,
  judgeAnswer,
  WEBHOOK_RETRY_DEFAULTS,
  webhookRetryDelay,
} from '../../../src/domain/webhooks/retry.ts'

const policy = { baseMs: 5_000, capMs: 3_600_000, giveUpAfterMs: 24 * 3_600_000 }
const middle = () => 0.5

describe('judgeAnswer', () => {
  it('counts every 2xx as delivered, 410 as gone, anything else as a retry', () => {
    expect(judgeAnswer({ status: 200 })).toBe('delivered')
    expect(judgeAnswer({ status: 204 })).toBe('delivered')
    expect(judgeAnswer({ status: 299 })).toBe('delivered')
    expect(judgeAnswer({ status: 410 })).toBe('gone')
    for (const status of [199, 301, 302, 400, 404, 429, 500, 503])
      expect(judgeAnswer({ status })).toBe('retry')
    expect(judgeAnswer({ error: 'timeout' })).toBe('retry')
    expect(judgeAnswer({ error: 'connection refused' })).toBe('retry')
  })
})

describe('webhookRetryDelay', () => {
  it('starts at the base and doubles, within ±20 % jitter', () => {
    expect(webhookRetryDelay(1, middle, policy)).toBe(5_000)
    expect(webhookRetryDelay(2, middle, policy)).toBe(10_000)
    expect(webhookRetryDelay(3, middle, policy)).toBe(20_000)
    expect(webhookRetryDelay(1, () => 0, policy)).toBe(4_000)
    expect(webhookRetryDelay(1, () => 0.999999, policy)).toBeLessThanOrEqual(6_000)
    expect(webhookRetryDelay(1, () => 0.999999, policy)).toBeGreaterThan(5_900)
  })

  it('never waits longer than the cap, however many retries came before', () => {
    expect(webhookRetryDelay(30, () => 0.999999, policy)).toBe(3_600_000)
    expect(webhookRetryDelay(1_000, middle, policy)).toBe(3_600_000)
  })

  it('defaults to a 5 s base, a 1 h cap and 24 h of retries', () => {
    expect(WEBHOOK_RETRY_DEFAULTS).toEqual(policy)
  })
})

describe('afterAttempt', () => {
  const start = Date.UTC(2026, 0, 1)

  it('finishes a 2xx as delivered and a 410 as gone, whatever came before', () => {
    const late = { now: start + 30 * 3_600_000, random: middle, policy }
    expect(afterAttempt({ status: 204 }, { attemptsBefore: 40, firstDueAt: start }, late)).toEqual({
      done: 'delivered',
    })
    expect(afterAttempt({ status: 410 }, { attemptsBefore: 0, firstDueAt: start }, late)).toEqual({
      done: 'gone',
    })
  })

  it('schedules the next retry from the time of the failed attempt', () => {
    const now = start + 1_000
    expect(
      afterAttempt(
        { status: 500 },
        { attemptsBefore: 0, firstDueAt: start },
        { now, random: middle, policy },
      ),
    ).toEqual({
      retryAt: now + 5_000,
    })
    expect(
      afterAttempt(
        { error: 'timeout' },
        { attemptsBefore: 2, firstDueAt: start },
        { now, random: middle, policy },
      ),
    ).toEqual({
      retryAt: now + 20_000,
    })
  })

  it('keeps retrying until 24 h after the first due time, then gives up', () => {
    let now = start
    let attemptsBefore = 0
    for (;;) {
      const step = afterAttempt(
        { status: 503 },
        { attemptsBefore, firstDueAt: start },
        { now, random: middle, policy },
      )
      if (!('retryAt' in step)) {
        expect(step).toEqual({ done: 'gave_up' })
        break
      }
      now = step.retryAt
      attemptsBefore += 1
    }
    expect(now - start).toBeGreaterThanOrEqual(policy.giveUpAfterMs)
    // Doubling from 5 s to the 1 h cap, then hourly: about 33 attempts in a day.
    expect(attemptsBefore).toBeGreaterThan(20)
    expect(attemptsBefore).toBeLessThan(40)
  })
})
