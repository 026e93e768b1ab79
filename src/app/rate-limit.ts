/**
 * A token bucket per caller: `perMinute` units a minute on average, with
 * bursts up to `burst`. A unit is one procedure call, or one message a
 * batch carries. Pure over an injected clock.
 */
export interface RateLimiter {
  /**
   * Takes `cost` units (default 1); returns 0 when allowed (then they are
   * taken), else the ms to wait (then nothing is taken). A cost above the
   * burst passes from a full bucket and leaves it in debt, so that no
   * request is refused for ever.
   */
  take(key: string, cost?: number): number
  /**
   * Charges `extra` more units to a request already admitted with `paid`
   * units, as if the whole `paid + extra` had been asked at once: 0 when
   * allowed, else the ms to wait (nothing more is taken).
   */
  extend(key: string, extra: number, paid: number): number
}

/** The default burst of a per-minute rate: a third of it (6,000 a minute: 2,000 at once). */
export function defaultBurst(perMinute: number): number {
  return Math.max(1, Math.ceil(perMinute / 3))
}

export function createRateLimiter(options: {
  perMinute: number
  burst?: number
  now: () => number
}): RateLimiter {
  const { perMinute, now } = options
  const capacity = Math.max(1, options.burst ?? defaultBurst(perMinute))
  const perMs = perMinute / 60_000
  const buckets = new Map<string, { tokens: number; at: number }>()

  const bucketOf = (key: string) => {
    const time = now()
    const bucket = buckets.get(key) ?? { tokens: capacity, at: time }
    // A clock stepped back (NTP) must not drain the bucket.
    bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, time - bucket.at) * perMs)
    bucket.at = time
    buckets.set(key, bucket)
    return bucket
  }
  /** Takes `cost` when `needed` units are there; else the ms until they are. */
  const charge = (key: string, cost: number, needed: number): number => {
    if (perMinute <= 0 || cost <= 0) return 0
    const bucket = bucketOf(key)
    if (bucket.tokens >= needed) {
      bucket.tokens -= cost
      return 0
    }
    return Math.max(1, Math.ceil((needed - bucket.tokens) / perMs))
  }

  return {
    take(key, cost = 1) {
      return charge(key, cost, Math.min(cost, capacity))
    },
    extend(key, extra, paid) {
      return charge(key, extra, Math.min(paid + extra, capacity) - paid)
    },
  }
}
