/**
 * Truncated exponential backoff with full jitter, as Google advises for
 * 429 and 5xx answers.
 * See https://developers.google.com/workspace/gmail/api/guides/handle-errors#exponential-backoff
 */
export interface BackoffPolicy {
  /** Delay cap of the first retry, in ms. */
  baseMs: number
  /** The largest delay, in ms. */
  capMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 5 * 60_000 }

/**
 * The delay before retry number `attempt` (1 for the first retry): uniformly
 * random in [0, min(cap, base * 2^(attempt-1))], never less than a Retry-After.
 */
export function retryDelay(
  attempt: number,
  random: () => number,
  options: { policy?: BackoffPolicy; retryAfterMs?: number } = {},
): number {
  const policy = options.policy ?? DEFAULT_BACKOFF
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  const jittered = Math.floor(random() * ceiling)
  return Math.max(jittered, options.retryAfterMs ?? 0)
}
