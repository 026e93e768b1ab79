/**
 * A token bucket per caller: `perMinute` requests a minute on average, with
 * bursts up to `burst`. Pure over an injected clock.
 */
export interface RateLimiter {
  /** Takes one token; returns 0 when allowed, else the ms to wait. */
  take(key: string): number
}

export function createRateLimiter(options: {
  perMinute: number
  burst?: number
  now: () => number
}): RateLimiter {
  const { perMinute, now } = options
  const capacity = Math.max(1, options.burst ?? Math.ceil(perMinute / 6))
  const perMs = perMinute / 60_000
  const buckets = new Map<string, { tokens: number; at: number }>()
  return {
    take(key) {
      if (perMinute <= 0) return 0
      const time = now()
      const bucket = buckets.get(key) ?? { tokens: capacity, at: time }
      // A clock stepped back (NTP) must not drain the bucket.
      bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, time - bucket.at) * perMs)
      bucket.at = time
      buckets.set(key, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.ceil((1 - bucket.tokens) / perMs)
    },
  }
}
