/**
 * The pure parts of the abuse limits: the per-key token bucket (costs,
 * debt, the top-up of an admitted request), the per-address failure guard
 * (its refusal, its log suppression, its bounded memory), the reading of
 * client addresses and TRUSTED_PROXIES, and the configuration's defaults.
 */
import type { Context } from 'hono'
import { describe, expect, it } from 'vitest'
import { createClientAddress } from '../../src/adapters/http/client-address.ts'
import { createAuthFailureGuard } from '../../src/app/auth-failures.ts'
import { readConfig } from '../../src/app/config.ts'
import { addressKey, inRange, parseIp, parseIpRange } from '../../src/app/ip-address.ts'
import { createRateLimiter } from '../../src/app/rate-limit.ts'

describe('the per-key rate limiter', () => {
  it('charges a cost, refills over time, and leaves a bucket in debt for a cost above the burst', () => {
    let now = 0
    const limiter = createRateLimiter({ perMinute: 60, burst: 60, now: () => now })
    expect(limiter.take('k', 10)).toBe(0)
    expect(limiter.take('k', 50)).toBe(0)
    expect(limiter.take('k')).toBe(1000)
    now = 60_000
    expect(limiter.take('k', 100)).toBe(0)
    // 40 units of debt plus the one asked for: 41 s at one a second.
    expect(limiter.take('k')).toBe(41_000)
    expect(limiter.take('other')).toBe(0)
  })

  it('tops up an admitted request as if its whole cost had been asked at once', () => {
    const limiter = createRateLimiter({ perMinute: 60, burst: 60, now: () => 0 })
    expect(limiter.take('k', 1)).toBe(0)
    expect(limiter.extend('k', 99, 1)).toBe(0)
    expect(limiter.take('k')).toBeGreaterThan(40_000)
    const other = createRateLimiter({ perMinute: 60, burst: 60, now: () => 0 })
    expect(other.take('k', 10)).toBe(0)
    expect(other.extend('k', 20, 10)).toBe(0)
    expect(other.extend('k', 40, 10)).toBeGreaterThan(0)
    // A refused top-up takes nothing.
    expect(other.take('k', 30)).toBe(0)
  })

  it('is off at 0 a minute', () => {
    const limiter = createRateLimiter({ perMinute: 0, now: () => 0 })
    for (let index = 0; index < 1000; index++) expect(limiter.take('k', 100)).toBe(0)
  })
})

describe('the failure guard', () => {
  it('refuses an address after its burst of failures, and gives it one try back per 6 s', () => {
    let now = 0
    const guard = createAuthFailureGuard({ now: () => now })
    for (let index = 0; index < 20; index++) {
      expect(guard.waitMs('a')).toBe(0)
      guard.failed('a')
    }
    expect(guard.waitMs('a')).toBe(6000)
    expect(guard.waitMs('b')).toBe(0)
    now = 6000
    expect(guard.waitMs('a')).toBe(0)
  })

  it('says to log once a minute per address, with the count of lines left out', () => {
    let now = 0
    const guard = createAuthFailureGuard({ now: () => now })
    expect(guard.failed('a')).toEqual({ log: true, suppressed: 0 })
    expect(guard.failed('a').log).toBe(false)
    expect(guard.failed('a').log).toBe(false)
    expect(guard.failed('b').log).toBe(true)
    now = 60_000
    expect(guard.failed('a')).toEqual({ log: true, suppressed: 2 })
  })

  it('keeps at most maxAddresses addresses', () => {
    const guard = createAuthFailureGuard({ now: () => 0, maxAddresses: 100, burst: 1 })
    for (let index = 0; index < 1000; index++) guard.failed(`10.0.${index >> 8}.${index & 255}`)
    const tracked = Array.from({ length: 1000 }, (_, index) => `10.0.${index >> 8}.${index & 255}`).filter(
      (address) => guard.waitMs(address) > 0,
    )
    expect(tracked.length).toBeLessThanOrEqual(100)
    expect(tracked).toContain('10.0.3.231')
  })
})

describe('addresses', () => {
  it('reads IPv4, IPv6, IPv4-mapped IPv6, and ranges', () => {
    expect(parseIp('192.0.2.1')).toEqual([192, 0, 2, 1])
    expect(parseIp('::ffff:192.0.2.1')).toEqual([192, 0, 2, 1])
    expect(parseIp('[2001:db8::1]')).toHaveLength(16)
    expect(parseIp('256.0.0.1')).toBeUndefined()
    expect(parseIp('2001:db8::1::2')).toBeUndefined()
    expect(parseIp('evil.example')).toBeUndefined()
    expect(inRange(parseIpRange('10.0.0.0/8')!, parseIp('10.200.3.4')!)).toBe(true)
    expect(inRange(parseIpRange('10.0.0.0/8')!, parseIp('11.0.0.1')!)).toBe(false)
    expect(inRange(parseIpRange('2001:db8::/32')!, parseIp('2001:db8:ffff::1')!)).toBe(true)
    expect(inRange(parseIpRange('::1')!, parseIp('127.0.0.1')!)).toBe(false)
    expect(parseIpRange('10.0.0.0/33')).toBeUndefined()
    expect(addressKey(parseIp('2001:db8:1:2:3:4:5:6')!)).toBe('2001:db8:1:2::/64')
  })

  const contextOf = (socket: string, forwarded?: string) =>
    ({
      env: { incoming: { socket: { remoteAddress: socket } } },
      req: { header: (name: string) => (name === 'X-Forwarded-For' ? forwarded : undefined) },
    }) as unknown as Context

  it('believes X-Forwarded-For only from a trusted proxy, and takes its last untrusted hop', () => {
    const direct = createClientAddress([])
    expect(direct(contextOf('198.51.100.1', '203.0.113.5'))).toBe('198.51.100.1')
    const proxied = createClientAddress(['10.0.0.0/8', '::1'])
    expect(proxied(contextOf('10.1.1.1', '203.0.113.5'))).toBe('203.0.113.5')
    expect(proxied(contextOf('10.1.1.1', '1.2.3.4, 203.0.113.5, 10.2.2.2'))).toBe('203.0.113.5')
    expect(proxied(contextOf('::1', 'not-an-address'))).toBe('0:0:0:0::/64')
    expect(proxied(contextOf('198.51.100.1', '203.0.113.5'))).toBe('198.51.100.1')
    expect(proxied({ env: undefined, req: { header: () => undefined } } as unknown as Context)).toBe(
      'unknown',
    )
  })
})

describe('the configuration', () => {
  it('defaults to 6,000 calls a minute with bursts of 2,000, and no trusted proxy', () => {
    const config = readConfig({})
    expect(config.apiRateLimitPerMinute).toBe(6000)
    expect(config.apiRateBurst).toBe(2000)
    expect(config.trustedProxies).toEqual([])
    expect(readConfig({ API_RATE_LIMIT_PER_MINUTE: '600' }).apiRateBurst).toBe(200)
    expect(readConfig({ API_RATE_BURST: '50' }).apiRateBurst).toBe(50)
  })

  it('refuses a TRUSTED_PROXIES entry that is no address or range, and a burst of 0', () => {
    expect(readConfig({ TRUSTED_PROXIES: '10.0.0.0/8, ::1' }).trustedProxies).toEqual(['10.0.0.0/8', '::1'])
    expect(() => readConfig({ TRUSTED_PROXIES: '10.0.0.0/8,proxy.internal' })).toThrow(
      'TRUSTED_PROXIES is invalid: "proxy.internal" is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)',
    )
    expect(() => readConfig({ API_RATE_BURST: '0' })).toThrow(/^API_RATE_BURST is invalid/)
  })
})
