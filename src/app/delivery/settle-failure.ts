/**
 * What a failed delivery attempt does to its message: the policy's decision
 * (`decideAfterFailure`) applied to the entry, plus the one case the policy
 * cannot see, an attempt that began before its account was reauthorized.
 */
import { decideAfterFailure } from '../../domain/delivery/after-failure.ts'
import type { BackoffPolicy } from '../../domain/delivery/backoff.ts'
import type { OutboxEntry, RecordedError } from '../../domain/mail/record.ts'
import type { MailEvent } from '../../domain/mail/transition.ts'
import { advance } from './advance.ts'
import type { toFailure } from './to-failure.ts'

export interface FailureSettings {
  now: number
  giveUpAfterMs: number
  random: () => number
  backoff?: BackoffPolicy | undefined
  /** The account was reauthorized since the attempt began (its credentials were the old ones). */
  reauthorizedSince: boolean
}

export type FailureOutcome = 'retry' | 'hold' | 'fail'

/**
 * The event a failed attempt moves `entry` by, and what becomes of it:
 * `retry` (queued, maybe later), `hold` (needs reauthorization) or `fail`.
 */
export function failureEvent(
  entry: OutboxEntry,
  failure: ReturnType<typeof toFailure>,
  settings: FailureSettings,
): { event: MailEvent; outcome: FailureOutcome } {
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
  if (decision.kind === 'hold' && settings.reauthorizedSince) {
    // Refused with credentials an admin has replaced since: try again at once with the new ones.
    return { event: { type: 'retryLater', at: now, error }, outcome: 'retry' }
  }
  if (decision.kind === 'retry') {
    return { event: { type: 'retryLater', at: now, error, nextAttemptAt: decision.at }, outcome: 'retry' }
  }
  if (decision.kind === 'hold')
    return { event: { type: 'holdAfterFailure', at: now, error }, outcome: 'hold' }
  return { event: { type: 'fail', at: now, error }, outcome: 'fail' }
}

/** Moves `entry` (in place, see `advance.ts`) after a failed attempt and says what became of it. */
export function settleFailure(
  entry: OutboxEntry,
  failure: ReturnType<typeof toFailure>,
  settings: FailureSettings,
): FailureOutcome {
  const { event, outcome } = failureEvent(entry, failure, settings)
  advance(entry, event)
  return outcome
}
