/**
 * What a failed delivery attempt does to its message: the policy's decision
 * (`decideAfterFailure`) applied to the entry, plus the one case the policy
 * cannot see, an attempt that began before its account was reauthorized.
 */
import { decideAfterFailure } from '../../domain/delivery/after-failure.ts'
import type { BackoffPolicy } from '../../domain/delivery/backoff.ts'
import type { OutboxEntry, RecordedError } from '../../domain/mail/record.ts'
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

/**
 * Moves `entry` (in place, see `advance.ts`) after a failed attempt and says what became of it:
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
  if (decision.kind === 'hold' && settings.reauthorizedSince) {
    // Refused with credentials an admin has replaced since: try again at once with the new ones.
    advance(entry, { type: 'retryLater', at: now, error })
    return 'retry'
  }
  if (decision.kind === 'retry') {
    advance(entry, { type: 'retryLater', at: now, error, nextAttemptAt: decision.at })
    return 'retry'
  }
  if (decision.kind === 'hold') {
    advance(entry, { type: 'holdAfterFailure', at: now, error })
    return 'hold'
  }
  advance(entry, { type: 'fail', at: now, error })
  return 'fail'
}
