/**
 * `/readyz`: whether this replica can do its work now, and why not. Anyone
 * may ask, so the answer says why, never which account (the console names
 * it to the admin).
 */
import type { Readiness } from '../adapters/http/deps.ts'
import type { AccountService } from '../app/accounts.ts'
import { expiryWarnings } from '../app/expiry-watch.ts'
import type { Clock } from '../domain/ports.ts'

export function createReadiness(deps: {
  /** Accounts whose delivery outcome could not be recorded (storage full or failing). */
  stuckAccounts: () => string[]
  /** Why the store cannot serve now, or undefined. */
  storeProblem: () => Promise<string | undefined>
  accounts: AccountService
  clock: Clock
  /**
   * PostgreSQL mode: an outcome waits to be written only because the
   * database is away, so an unreachable database is named first (the
   * cause, not its effect).
   */
  storeProblemFirst?: boolean
}): () => Promise<Readiness> {
  return async () => {
    const stuck = deps.stuckAccounts().length > 0
    const problem = stuck && !deps.storeProblemFirst ? undefined : await deps.storeProblem()
    if (problem !== undefined) return { ready: false, reason: problem }
    if (stuck) {
      return {
        ready: false,
        reason:
          'A delivery outcome could not be recorded: storage is full or failing; sending is stopped until it is written',
      }
    }
    const all = await deps.accounts.list()
    if (all.some((account) => account.status === 'connected')) {
      const warnings = expiryWarnings(all, deps.clock.now())
      return warnings.length > 0 ? { ready: true, warnings } : { ready: true }
    }
    const waiting = all.filter((account) => account.status === 'reauthorization_required').length
    return {
      ready: false,
      reason:
        waiting > 0
          ? `Reauthorization required for ${waiting === 1 ? 'an account' : `${waiting} accounts`}; mail is held until an admin reauthorizes in the console (/admin)`
          : 'No Google account is connected; an admin must connect one at /oauth/login',
    }
  }
}
