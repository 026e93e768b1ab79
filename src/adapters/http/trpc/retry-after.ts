/**
 * The `Retry-After` header of a tRPC answer whose procedures were refused
 * with a wait (`data.retryAfterMs`, e.g. a batch's messages over the key's
 * rate budget): the longest wait among them, in whole seconds.
 */
import type { TRPCError } from '@trpc/server'
import { isServiceError } from '../../../domain/errors.ts'

export function retryAfterOf(errors: readonly TRPCError[]): { headers?: Record<string, string> } {
  let longest = 0
  for (const error of errors) {
    const cause: unknown = error.cause
    if (isServiceError(cause) && cause.retryAfterMs !== undefined)
      longest = Math.max(longest, cause.retryAfterMs)
  }
  return longest > 0 ? { headers: { 'Retry-After': String(Math.max(1, Math.ceil(longest / 1000))) } } : {}
}
