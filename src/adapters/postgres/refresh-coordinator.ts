/**
 * `RefreshCoordinator` on PostgreSQL: the refreshes of one account take
 * turns across the fleet under a transaction-level advisory lock,
 * `pg_advisory_xact_lock(<class>, hashtext(email))`, held on a connection
 * of its own for as long as `work` runs (the transaction holds the lock
 * and writes nothing). The lock ends with the transaction, and so with a
 * replica that dies or freezes holding it (the server's idle-in-transaction
 * timeout ends the session), never later.
 *
 * `work` reads and writes the account through the service's pool: give
 * this coordinator a pool of its own, so that locks held cannot take every
 * connection the work needs. A replica that waits longer than
 * `lockTimeoutMs` for another's refresh (Google slow to answer) runs
 * `work` without the lock: at worst one more token request, never a send
 * stuck behind a lock.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { RefreshCoordinator } from '../../domain/ports.ts'
import { unavailableError } from './connect.ts'

/** First key of the two-key advisory locks of refreshes (the service uses it for nothing else). */
const REFRESH_LOCK_CLASS = 0x676d_6103

/** SQLSTATE of a lock not granted within `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03'

export interface RefreshLockOptions {
  /** How long to wait for another replica's refresh of the account before refreshing anyway. Default 15 s. */
  lockTimeoutMs?: number
}

export function postgresRefreshCoordinator(
  pool: pg.Pool,
  options: RefreshLockOptions = {},
): RefreshCoordinator {
  const lockTimeoutMs = options.lockTimeoutMs ?? 15_000
  return {
    async run(account, work) {
      const client = await pool.connect().catch((error: unknown) => {
        throw lockError(error, pool, account)
      })
      let broken: Error | undefined
      // A connection lost while it holds the lock (the server ended the session) is not reused.
      const onError = (error: Error) => {
        broken = error
      }
      client.on('error', onError)
      const done = async (end: boolean) => {
        if (end) await client.query('ROLLBACK').catch((error: Error) => onError(error))
        client.off('error', onError)
        client.release(broken)
      }
      try {
        await client.query('BEGIN')
        await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${lockTimeoutMs}ms`])
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [REFRESH_LOCK_CLASS, account])
      } catch (error) {
        if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) {
          broken ??= error as Error
          await done(false)
          throw lockError(error, pool, account)
        }
        // Waited long enough for the replica refreshing: do without it.
        await done(true)
        return work()
      }
      try {
        return await work()
      } finally {
        await done(true)
      }
    },
  }
}

function lockError(error: unknown, pool: pg.Pool, account: string): ServiceError {
  if (error instanceof ServiceError) return error
  const url = pool.options.connectionString
  const unavailable = unavailableError(
    error,
    url !== undefined && URL.canParse(url) ? url : 'postgres://localhost',
  )
  if (unavailable) return unavailable
  return new ServiceError(
    'STORAGE',
    `Could not take the refresh lock of the account ${JSON.stringify(account)}`,
    {
      cause: error,
    },
  )
}
