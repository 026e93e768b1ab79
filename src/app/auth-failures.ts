/**
 * The brute-force guard: failed authentications (wrong API key, wrong
 * admin bearer, wrong sign-in) are counted per client address in a token
 * bucket, and an address out of tokens is refused before any presented
 * secret is even hashed. Each address's refusals are also logged at most
 * once a window, with the count of the lines left out. Pure over an
 * injected clock; memory stays bounded whatever the number of addresses.
 */
export interface AuthFailureGuard {
  /** 0 when the address may try a secret, else the ms until it may. */
  waitMs(address: string): number
  /**
   * Counts a failure of the address. `log` says whether to write a line
   * now; `suppressed` is how many lines were left out since the last one.
   */
  failed(address: string): { log: boolean; suppressed: number }
}

export interface AuthFailureOptions {
  /** Failures a minute an address earns back (default 10). */
  perMinute?: number
  /** Failures an address may make at once (default 20). */
  burst?: number
  /** At most one log line per address in this window (default one minute). */
  logEveryMs?: number
  /** Addresses tracked at most; beyond, the oldest are forgotten (default 50,000). */
  maxAddresses?: number
  now: () => number
}

interface Entry {
  tokens: number
  at: number
  loggedAt: number
  suppressed: number
}

export function createAuthFailureGuard(options: AuthFailureOptions): AuthFailureGuard {
  const perMs = (options.perMinute ?? 10) / 60_000
  const capacity = Math.max(1, options.burst ?? 20)
  const logEveryMs = options.logEveryMs ?? 60_000
  const maxAddresses = options.maxAddresses ?? 50_000
  const entries = new Map<string, Entry>()

  const refill = (entry: Entry, time: number) => {
    entry.tokens = Math.min(capacity, entry.tokens + Math.max(0, time - entry.at) * perMs)
    entry.at = time
  }
  /** Drops the addresses that have earned everything back and have nothing left to log; then the oldest. */
  const prune = (time: number) => {
    for (const [address, entry] of entries) {
      refill(entry, time)
      if (entry.tokens >= capacity && time - entry.loggedAt >= logEveryMs) entries.delete(address)
    }
    for (const address of entries.keys()) {
      if (entries.size < maxAddresses) break
      entries.delete(address)
    }
  }

  return {
    waitMs(address) {
      const entry = entries.get(address)
      if (entry === undefined) return 0
      refill(entry, options.now())
      return entry.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - entry.tokens) / perMs))
    },
    failed(address) {
      const time = options.now()
      let entry = entries.get(address)
      if (entry === undefined) {
        if (entries.size >= maxAddresses) prune(time)
        entry = { tokens: capacity, at: time, loggedAt: Number.NEGATIVE_INFINITY, suppressed: 0 }
        entries.set(address, entry)
      }
      refill(entry, time)
      entry.tokens = Math.max(0, entry.tokens - 1)
      if (time - entry.loggedAt >= logEveryMs) {
        const suppressed = entry.suppressed
        entry.loggedAt = time
        entry.suppressed = 0
        return { log: true, suppressed }
      }
      entry.suppressed++
      return { log: false, suppressed: entry.suppressed }
    },
  }
}
