/**
 * The per-API-key request budget of one process (lowdb mode, tests): the
 * token bucket of `rate-limit.ts` behind the `RequestBudget` port. Same
 * contract as the PostgreSQL adapter (test/contracts/request-budget.contract.ts).
 * A key with its own limits is charged by a limiter of those limits.
 */
import type { BudgetLimits, Clock, RequestBudget } from '../domain/ports.ts'
import { createRateLimiter, type RateLimiter } from './rate-limit.ts'

export function memoryRequestBudget(options: {
  perMinute: number
  burst?: number
  clock: Clock
}): RequestBudget {
  const limiters = new Map<string, RateLimiter>()
  const limiterFor = (limits: BudgetLimits): RateLimiter => {
    const name = `${limits.perMinute}/${limits.burst ?? ''}`
    let limiter = limiters.get(name)
    if (limiter === undefined) {
      limiter = createRateLimiter({
        perMinute: limits.perMinute,
        ...(limits.burst === undefined ? {} : { burst: limits.burst }),
        now: () => options.clock.now(),
      })
      limiters.set(name, limiter)
    }
    return limiter
  }
  const byDefault = limiterFor(options)
  const of = (own: BudgetLimits | undefined) => (own === undefined ? byDefault : limiterFor(own))
  return {
    take: async (key, cost, own) => of(own).take(key, cost),
    extend: async (key, extra, paid, own) => of(own).extend(key, extra, paid),
  }
}
