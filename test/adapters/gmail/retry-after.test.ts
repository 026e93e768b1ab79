import { describe, expect, it } from 'vitest'
import { parseRetryAfter, retryAfterHeader } from '../../../src/adapters/gmail/retry-after.ts'

const NOW = Date.parse('2026-06-01T12:00:00Z')

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000)
  })

  it('reads an HTTP-date as the time left until then', () => {
    expect(parseRetryAfter('Mon, 01 Jun 2026 12:00:30 GMT', NOW)).toBe(30_000)
  })

  it('gives zero for a date already past', () => {
    expect(parseRetryAfter('Mon, 01 Jun 2026 11:00:00 GMT', NOW)).toBe(0)
  })

  it('ignores an absent or unreadable value', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined()
    expect(parseRetryAfter('soon', NOW)).toBeUndefined()
    expect(parseRetryAfter('-5', NOW)).toBeUndefined()
  })
})

describe('retryAfterHeader', () => {
  it('reads fetch Headers and plain records, case-insensitively', () => {
    expect(retryAfterHeader(new Headers({ 'Retry-After': '3' }))).toBe('3')
    expect(retryAfterHeader({ 'Retry-After': '4' })).toBe('4')
    expect(retryAfterHeader(undefined)).toBeUndefined()
  })
})
