/**
 * Gmail's per-user rate limit, as a sliding 60-second window over sends
 * (developers.google.com/workspace/gmail/api/reference/quota).
 */
export const QUOTA_WINDOW_MS = 60_000

export type QuotaDecision =
  | { admitted: true }
  | { admitted: false; retryAfterSeconds: number; retryAt: number }

export class SendQuota {
  readonly #now: () => number
  #sendsPerMinute: number | undefined
  #uses = new Map<string, number[]>()

  constructor(now: () => number) {
    this.#now = now
  }

  set(quota: { sendsPerMinute: number } | undefined): void {
    if (quota !== undefined && !(Number.isInteger(quota.sendsPerMinute) && quota.sendsPerMinute >= 0)) {
      throw new RangeError('sendsPerMinute must be a non-negative integer')
    }
    this.#sendsPerMinute = quota?.sendsPerMinute
    this.#uses.clear()
  }

  /** Counts one send for `account` when the window has room. */
  admit(account: string): QuotaDecision {
    const limit = this.#sendsPerMinute
    if (limit === undefined) return { admitted: true }
    const now = this.#now()
    const recent = (this.#uses.get(account) ?? []).filter((at) => at > now - QUOTA_WINDOW_MS)
    this.#uses.set(account, recent)
    if (recent.length < limit) {
      recent.push(now)
      return { admitted: true }
    }
    // Room comes back when the oldest send that must leave the window does.
    const retryAt = (recent[recent.length - limit] ?? now) + QUOTA_WINDOW_MS
    return { admitted: false, retryAt, retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) }
  }

  clear(): void {
    this.#sendsPerMinute = undefined
    this.#uses.clear()
  }
}
