/**
 * What becomes of a message whose delivery attempt failed: retry later,
 * hold for reauthorization, or fail for good.
 */
import type { ErrorCode } from '../errors.ts'
import { type BackoffPolicy, retryDelay } from './backoff.ts'

export interface AttemptFailure {
  code: ErrorCode
  message: string
  retryable: boolean
  retryAfterMs?: number | undefined
}

export type FailureDecision = { kind: 'retry'; at: number } | { kind: 'hold' } | { kind: 'fail' }

export interface FailureContext {
  /** Attempts made so far, this one included. */
  attempts: number
  /** When the message was accepted (or released for another try), epoch ms. */
  since: number
  now: number
  /** After this long without success a retryable failure becomes final. */
  giveUpAfterMs: number
  random: () => number
  policy?: BackoffPolicy
}

/** Decides the next step after a failed attempt. */
export function decideAfterFailure(failure: AttemptFailure, context: FailureContext): FailureDecision {
  if (failure.code === 'REAUTHORIZATION_REQUIRED' || failure.code === 'ACCOUNT_NOT_CONNECTED') {
    return { kind: 'hold' }
  }
  // A damaged body stays damaged: sending it later would not help.
  if (!failure.retryable || failure.code === 'BODY_DAMAGED') return { kind: 'fail' }
  const options: { policy?: BackoffPolicy; retryAfterMs?: number } = {}
  if (context.policy) options.policy = context.policy
  if (failure.retryAfterMs !== undefined) options.retryAfterMs = failure.retryAfterMs
  const at = context.now + retryDelay(context.attempts, context.random, options)
  if (at - context.since > context.giveUpAfterMs) return { kind: 'fail' }
  return { kind: 'retry', at }
}
