/**
 * `RefreshCoordinator` for a store one process owns (lowdb, tests): the
 * refreshes of one account take turns in this process, which is the whole
 * fleet there. PostgreSQL mode uses the database's advisory locks instead
 * (`adapters/postgres/refresh-coordinator.ts`).
 */
import type { RefreshCoordinator } from '../domain/ports.ts'

export function inProcessRefreshCoordinator(): RefreshCoordinator {
  const tails = new Map<string, Promise<unknown>>()
  return {
    run(account, work) {
      const previous = tails.get(account) ?? Promise.resolve()
      const result = previous.then(work, work)
      const tail = result.catch(() => undefined)
      tails.set(account, tail)
      // The map holds only accounts with a refresh under way.
      void tail.then(() => {
        if (tails.get(account) === tail) tails.delete(account)
      })
      return result
    },
  }
}
