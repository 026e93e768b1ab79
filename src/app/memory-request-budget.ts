/**
 * The per-API-key request budget of one process (lowdb mode, tests): the
 * token bucket of `rate-limit.ts` behind the `RequestBudget` port. Same
 * contract as the PostgreSQL adapter (test/contracts/request-budget.contract.ts).
 */
import type { Clock, RequestBudget } from '../domain/ports.ts'
import { createRateLimiter } from './rate-limit.ts'

export function memoryRequestBudget(options: {
  perMinute: number
  burst?: number
  clock: Clock
}): RequestBudget {
  const limiter = createRateLimiter({
    perMinute: options.perMinute,
    ...(options.burst === undefined ? {} : { burst: options.burst }),
    now: () => options.clock.now(),
  })
  return {
    take: async (key, cost) => limiter.take(key, cost),
    extend: async (key, extra, paid) => limiter.extend(key, extra, paid),
  }
}
