import type { AttemptFailure } from '../../domain/delivery/after-failure.ts'
import { isServiceError } from '../../domain/errors.ts'

/** Turns whatever an attempt threw into a failure the policy can judge; unknown errors are retried. */
export function toFailure(caught: unknown): AttemptFailure {
  if (isServiceError(caught)) {
    return {
      code: caught.code,
      message: caught.message,
      retryable: caught.retryable,
      retryAfterMs: caught.retryAfterMs,
    }
  }
  return {
    code: 'INTERNAL',
    message: 'An unexpected error interrupted the delivery attempt',
    retryable: true,
  }
}
