/**
 * The watch that warns before Google ends a refresh token: at start and on
 * every tick it looks for connected accounts whose deadline is within 24 h
 * and not yet warned for (`domain/credentials/expiry.ts`), records the
 * warning on the account (`expiryWarnedFor = refreshTokenExpiresAt`) and
 * logs it. The record is what the rest hears: on PostgreSQL the accounts'
 * trigger turns that save into `account.expiring` in the same transaction;
 * on lowdb the webhook wrapper around `AccountRepository.save` does. Every
 * replica may run it: a warning already recorded is not given again.
 *
 * The banner and /readyz need no record: they read the deadline itself
 * (`expiringAccounts`), so they show from the first moment, on any replica.
 * Once the deadline passes, the next refresh answers `invalid_grant` and
 * the usual path holds the mail and marks the account.
 */
import type { Account } from '../domain/credentials/account.ts'
import { isExpiring, isWarningDue } from '../domain/credentials/expiry.ts'
import type { Clock } from '../domain/ports.ts'
import type { AccountService } from './accounts.ts'
import type { Logger } from './logger.ts'
import type { Scheduler } from './scheduler.ts'

/** How often the watch looks, by default: a minute is nothing against a 24 h notice. */
export const EXPIRY_CHECK_INTERVAL_MS = 60_000

export interface ExpiryWatch {
  /** Looks once; resolves with the accounts this look warned about. */
  check(): Promise<string[]>
  /** Looks now, then every interval, until `stop`. */
  start(): void
  /** Stops looking; resolves once a look under way has finished (before the stores close). */
  stop(): Promise<void>
}

export function createExpiryWatch(deps: {
  accounts: Pick<AccountService, 'list' | 'markExpiryWarned'>
  clock: Clock
  scheduler: Scheduler
  logger: Logger
  intervalMs?: number
}): ExpiryWatch {
  const { accounts, clock, logger } = deps
  const intervalMs = deps.intervalMs ?? EXPIRY_CHECK_INTERVAL_MS
  let cancel: (() => void) | undefined
  let running: Promise<string[]> | undefined

  async function look(): Promise<string[]> {
    const now = clock.now()
    const warned: string[] = []
    for (const account of await accounts.list()) {
      const deadline = account.refreshTokenExpiresAt
      if (deadline === undefined || !isWarningDue(account, now)) continue
      if (!(await accounts.markExpiryWarned(account.email, deadline))) continue
      warned.push(account.email)
      logger.warn(
        'Google ends this account’s access soon: an admin must reauthorize it in the console (/admin)',
        {
          account: account.email,
          expiresAt: new Date(deadline).toISOString(),
          minutesLeft: Math.max(0, Math.floor((deadline - now) / 60_000)),
        },
      )
    }
    return warned
  }

  // One look at a time: a tick that finds the last one still running skips.
  const check = (): Promise<string[]> => {
    if (running !== undefined) return running
    const current = look().finally(() => {
      running = undefined
    })
    running = current
    return current
  }

  const tick = () => {
    // Armed before looking, so a slow store never stops the watch.
    cancel = deps.scheduler.after(intervalMs, tick)
    check().catch(() => logger.error('Could not look for accounts whose Google access ends soon'))
  }

  return {
    check,
    start() {
      if (cancel === undefined) tick()
    },
    async stop() {
      cancel?.()
      cancel = undefined
      await running?.catch(() => undefined)
    },
  }
}

/** The connected accounts whose Google access ends within 24 h (or has ended unnoticed). */
export function expiringAccounts(accounts: readonly Account[], now: number): Account[] {
  return accounts.filter((account) => isExpiring(account, now))
}

/**
 * What /readyz says of expiring accounts: anyone may read it, so it counts
 * them and names none (the console names them to the admin).
 */
export function expiryWarnings(accounts: readonly Account[], now: number): string[] {
  const count = expiringAccounts(accounts, now).length
  if (count === 0) return []
  const subject = count === 1 ? "An account's Google access" : `${count} accounts' Google access`
  return [`${subject} ends within 24 h; reauthorize at /admin`]
}
