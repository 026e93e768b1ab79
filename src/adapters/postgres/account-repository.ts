/**
 * Connected accounts on PostgreSQL (`accounts` of migrations 1 and 4), shared by
 * every replica: each call reads or writes the table, nothing is cached,
 * so that a token stored by one replica is what the others read next.
 * Tokens are stored sealed only (`account-rows.ts`).
 *
 * A default account is saved in one transaction that first takes the
 * flag from the others, under an advisory lock that makes concurrent
 * default changes take turns (the partial unique index
 * `accounts_one_default` would otherwise refuse the later one).
 */
import type pg from 'pg'
import type { Account } from '../../domain/credentials/account.ts'
import { ServiceError } from '../../domain/errors.ts'
import type { AccountRepository } from '../../domain/ports.ts'
import type { TokenCipher } from '../lowdb/token-cipher.ts'
import { ACCOUNT_COLUMNS, accountFromRow, accountParams } from './account-rows.ts'
import { unavailableError } from './connect.ts'
import { inTransaction } from './transaction.ts'

/** The advisory lock key of default changes (a constant the service uses for nothing else). */
const DEFAULT_LOCK_KEY = 0x676d_6169_6c02n

const ts = (param: string) => `to_timestamp(${param}::float8 / 1000)`

const UPSERT = `
INSERT INTO accounts (email, status, scopes, is_default, connected_at, last_refresh_at, last_error,
  sealed_refresh_token, sealed_access_token, access_token_expires_at, refresh_token_expires_at,
  expiry_warned_for, updated_at)
VALUES ($1, $2, $3, $4, ${ts('$5')}, ${ts('$6')}, $7::jsonb, $8, $9, ${ts('$10')}, ${ts('$11')}, ${ts('$12')},
  clock_timestamp())
ON CONFLICT (email) DO UPDATE SET
  status = EXCLUDED.status, scopes = EXCLUDED.scopes, is_default = EXCLUDED.is_default,
  connected_at = EXCLUDED.connected_at, last_refresh_at = EXCLUDED.last_refresh_at,
  last_error = EXCLUDED.last_error, sealed_refresh_token = EXCLUDED.sealed_refresh_token,
  sealed_access_token = EXCLUDED.sealed_access_token,
  access_token_expires_at = EXCLUDED.access_token_expires_at,
  refresh_token_expires_at = EXCLUDED.refresh_token_expires_at,
  expiry_warned_for = EXCLUDED.expiry_warned_for, updated_at = EXCLUDED.updated_at`

const TAKE_DEFAULT = `
UPDATE accounts SET is_default = false, updated_at = clock_timestamp() WHERE is_default AND email <> $1`

/** The account repository over `pool`, sealing and opening tokens with `cipher`. */
export function postgresAccounts(pool: pg.Pool, cipher: TokenCipher): AccountRepository {
  const fail = (error: unknown, action: string) => accountsError(error, pool, action)
  return {
    async list() {
      let rows: unknown[]
      try {
        ;({ rows } = await pool.query(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY email`))
      } catch (error) {
        throw fail(error, 'list the accounts')
      }
      return Promise.all(rows.map((row) => accountFromRow(row, cipher)))
    },

    async get(email) {
      let rows: unknown[]
      try {
        ;({ rows } = await pool.query(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = $1`, [
          email.toLowerCase(),
        ]))
      } catch (error) {
        throw fail(error, 'read the account')
      }
      return rows[0] === undefined ? undefined : accountFromRow(rows[0], cipher)
    },

    async save(account) {
      const normalized: Account = { ...account, email: account.email.toLowerCase() }
      const params = await accountParams(normalized, cipher)
      try {
        if (!normalized.isDefault) {
          await pool.query(UPSERT, params)
          return
        }
        await inTransaction(pool, async (client) => {
          await client.query('SELECT pg_advisory_xact_lock($1)', [DEFAULT_LOCK_KEY.toString()])
          await client.query(TAKE_DEFAULT, [normalized.email])
          await client.query(UPSERT, params)
        })
      } catch (error) {
        throw fail(error, `store the account ${JSON.stringify(normalized.email)}`)
      }
    },
  }
}

/** A driver error as the accounts report it; a `ServiceError` passes unchanged. */
function accountsError(error: unknown, pool: pg.Pool, action: string): ServiceError {
  if (error instanceof ServiceError) return error
  const unavailable = unavailableError(error, databaseUrlOf(pool))
  if (unavailable) return unavailable
  return new ServiceError('STORAGE', `Could not ${action} in the database`, { cause: error })
}

/** The pool's URL for messages (which name host and port only); a pool built from parts has none. */
function databaseUrlOf(pool: pg.Pool): string {
  const url = pool.options.connectionString
  if (url !== undefined && URL.canParse(url)) return url
  return `postgres://${pool.options.host ?? 'localhost'}:${pool.options.port ?? 5432}`
}
