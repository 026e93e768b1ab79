/**
 * A tRPC link for the typed client: a call refused for back-pressure
 * (`TOO_MANY_REQUESTS`, or HTTP 503 while the service drains for a restart)
 * was not carried out, so it is sent again after the wait the service gave
 * (`data.retryAfterMs`, else `Retry-After`), a bounded number of times.
 * Nothing else is ever retried: another error, or a wait longer than
 * `maxDelayMs`, goes back to the caller at once.
 */
import type { TRPCClientError, TRPCLink } from '@trpc/client'
import type { AnyRouter } from '@trpc/server'
import { observable, type Unsubscribable } from '@trpc/server/observable'

export interface RetryOptions {
  /** Retries per call (0: none). */
  retries: number
  /** A longer wait than this is not waited for: the error goes back at once. */
  maxDelayMs: number
}

/** When the service asks for no particular wait. */
const DEFAULT_DELAY_MS = 1_000

/** Seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined when neither. */
function retryAfterHeader(value: string | null | undefined): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** The wait before retrying `error`, or undefined when it must not be retried. */
export function backPressureDelayMs(error: TRPCClientError<AnyRouter>): number | undefined {
  const data = error.data as { code?: unknown; httpStatus?: unknown; retryAfterMs?: unknown } | undefined
  const response = (error.meta as { response?: { status?: number; headers?: Headers } } | undefined)?.response
  const status = typeof data?.httpStatus === 'number' ? data.httpStatus : response?.status
  if (data?.code !== 'TOO_MANY_REQUESTS' && status !== 503) return undefined
  if (typeof data?.retryAfterMs === 'number' && data.retryAfterMs >= 0) return data.retryAfterMs
  return retryAfterHeader(response?.headers?.get('retry-after')) ?? DEFAULT_DELAY_MS
}

export function backPressureRetryLink<TRouter extends AnyRouter>(options: RetryOptions): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let subscription: Unsubscribable | undefined
        let timer: ReturnType<typeof setTimeout> | undefined
        let attempts = 0
        const attempt = () => {
          subscription = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              const delayMs = attempts < options.retries ? backPressureDelayMs(error) : undefined
              if (delayMs === undefined || delayMs > options.maxDelayMs || op.signal?.aborted) {
                observer.error(error)
                return
              }
              attempts++
              timer = setTimeout(attempt, delayMs)
            },
          })
        }
        attempt()
        return () => {
          clearTimeout(timer)
          subscription?.unsubscribe()
        }
      })
}
