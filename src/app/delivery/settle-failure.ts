/**
 * What a failed delivery attempt does to its message: the policy's decision
 * (`decideAfterFailure`) applied to the entry, plus the one case the policy
 * cannot see, an attempt that began before its account was reauthorized.
 */
import { decideAfterFailure } from '../../domain/delivery/after-failure.ts'
import type { BackoffPolicy } from '../../domain/delivery/backoff.ts'
import type { DeliveryAttempt, OutboxEntry, RecordedError } from '../../domain/mail/record.ts'
import type { toFailure } from './to-failure.ts'

/** Attempts kept per message: the first, and the latest ones. */
const ATTEMPT_LOG_LIMIT = 50

/** Appends to the message's timeline, keeping its first attempt and the latest ones. */
export function recordAttempt(entry: OutboxEntry, item: DeliveryAttempt): void {
  entry.attemptLog.push(item)
  if (entry.attemptLog.length > ATTEMPT_LOG_LIMIT)
    entry.attemptLog.splice(1, entry.attemptLog.length - ATTEMPT_LOG_LIMIT)
}

export interface FailureSettings {
  now: number
  giveUpAfterMs: number
  random: () => number
  backoff?: BackoffPolicy | undefined
  /** The account was reauthorized since the attempt began (its credentials were the old ones). */
  reauthorizedSince: boolean
}

/**
 * Updates `entry` after a failed attempt and says what became of it:
 * `retry` (queued, maybe later), `hold` (needs reauthorization) or `fail`.
 */
export function settleFailure(
  entry: OutboxEntry,
  failure: ReturnType<typeof toFailure>,
  settings: FailureSettings,
): 'retry' | 'hold' | 'fail' {
  const { now } = settings
  const error: RecordedError = { code: failure.code, message: failure.message }
  // Retries give up counting from acceptance, the scheduled time, or the last release.
  const since = Math.max(
    entry.createdAt,
    entry.sendAt ?? 0,
    ...entry.attemptLog.filter((item) => item.outcome === 'released').map((item) => item.at),
  )
  const decision = decideAfterFailure(failure, {
    attempts: entry.attempts,
    since,
    now,
    giveUpAfterMs: settings.giveUpAfterMs,
    random: settings.random,
    ...(settings.backoff ? { policy: settings.backoff } : {}),
  })
  entry.error = error
  if (decision.kind === 'hold' && settings.reauthorizedSince) {
    // Refused with credentials an admin has replaced since: try again at once with the new ones.
    entry.status = 'queued'
    delete entry.nextAttemptAt
    recordAttempt(entry, { at: now, outcome: 'retry', error })
    return 'retry'
  }
  if (decision.kind === 'retry') {
    entry.status = 'queued'
    entry.nextAttemptAt = decision.at
    recordAttempt(entry, { at: now, outcome: 'retry', error })
    return 'retry'
  }
  if (decision.kind === 'hold') {
    entry.status = 'held'
    recordAttempt(entry, { at: now, outcome: 'held', error })
    return 'hold'
  }
  entry.status = 'failed'
  recordAttempt(entry, { at: now, outcome: 'failed', error })
  return 'fail'
}
