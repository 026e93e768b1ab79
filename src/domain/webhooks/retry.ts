/**
 * What a dispatcher does after one webhook attempt: a 2xx is delivered; a
 * 410 is delivered as gone (the receiver asked never to be called again, so
 * the endpoint is disabled, as Standard Webhooks suggests); anything else
 * (another status, a timeout, a network error) is retried with exponential
 * backoff and jitter until at least `giveUpAfterMs` (24 h) after the first
 * due time, then given up.
 * See https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#deliverability-and-reliability
 */

export interface WebhookRetryPolicy {
  /** The first retry's delay, in ms (`WEBHOOK_RETRY_BASE_MS`); doubling after. */
  baseMs: number
  /** The largest delay between two attempts, in ms. */
  capMs: number
  /** Retries go on at least this long after the first due time. */
  giveUpAfterMs: number
}

export const WEBHOOK_RETRY_DEFAULTS: WebhookRetryPolicy = {
  baseMs: 5_000,
  capMs: 3_600_000,
  giveUpAfterMs: 24 * 3_600_000,
}

/** An attempt's answer: the HTTP status, or why there was none (`timeout`, `connection refused`, …). */
export type WebhookAnswer = { status: number } | { error: string }

export type AttemptVerdict = 'delivered' | 'gone' | 'retry'

/** How one answer is judged. */
export function judgeAnswer(answer: WebhookAnswer): AttemptVerdict {
  if (!('status' in answer)) return 'retry'
  if (answer.status >= 200 && answer.status < 300) return 'delivered'
  if (answer.status === 410) return 'gone'
  return 'retry'
}

/**
 * The delay before retry number `retry` (1 for the first): `base * 2^(retry-1)`
 * capped at `capMs`, spread by ±20 % (`random` in [0, 1)) so that the
 * retries of many deliveries failed together do not come back together.
 */
export function webhookRetryDelay(retry: number, random: () => number, policy: WebhookRetryPolicy): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry - 1))
  const spread = ceiling * (0.8 + 0.4 * random())
  return Math.max(1, Math.round(Math.min(policy.capMs, spread)))
}

export type NextStep = { retryAt: number } | { done: 'delivered' | 'gave_up' } | { done: 'gone' }

/**
 * The step after an attempt made at `now` of a delivery first due at
 * `firstDueAt`, which had `attemptsBefore` attempts before this one.
 */
export function afterAttempt(
  answer: WebhookAnswer,
  delivery: { attemptsBefore: number; firstDueAt: number },
  context: { now: number; random: () => number; policy: WebhookRetryPolicy },
): NextStep {
  const verdict = judgeAnswer(answer)
  if (verdict === 'delivered') return { done: 'delivered' }
  if (verdict === 'gone') return { done: 'gone' }
  if (context.now - delivery.firstDueAt >= context.policy.giveUpAfterMs) return { done: 'gave_up' }
  const delay = webhookRetryDelay(delivery.attemptsBefore + 1, context.random, context.policy)
  return { retryAt: context.now + delay }
}
