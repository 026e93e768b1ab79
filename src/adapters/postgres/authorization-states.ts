/**
 * The OAuth `state` of logins in progress on PostgreSQL (`oauth_states`),
 * shared by every replica: a login started on one finishes on any, once.
 * A row holds the state's SHA-256, never the state, and the PKCE verifier
 * sealed with the TokenCipher under a purpose naming that digest, so that a
 * sealed verifier copied onto another row does not open.
 *
 * `take` is one `DELETE … RETURNING`: of concurrent takes of one state, on
 * any number of replicas, exactly one gets the row. `put` is one statement
 * too: it drops the logins expired at the new login's start and the oldest
 * beyond `max`, then stores the new one (puts racing each other may leave
 * a few more than `max` until the next put).
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { MAX_PENDING_AUTHORIZATIONS } from '../../app/memory-authorization-states.ts'
import type { AuthorizationStates, PendingAuthorization } from '../../domain/ports.ts'
import type { TokenCipher } from '../lowdb/token-cipher.ts'
import { inDatabase } from './database-error.ts'
import { epochMs, fromEpochMs } from './sql-time.ts'

/** $1 digest, $2 sealed verifier, $3 login hint, $4 created (ms), $5 expires (ms), $6 how many others to keep. */
const PUT = `
WITH dropped AS (
  DELETE FROM oauth_states
  WHERE state_sha256 <> $1 AND (
    expires_at < ${fromEpochMs('$4')}
    OR state_sha256 IN (
      SELECT state_sha256 FROM oauth_states
      WHERE state_sha256 <> $1 AND expires_at >= ${fromEpochMs('$4')}
      ORDER BY created_at DESC, state_sha256 OFFSET $6
    )
  )
)
INSERT INTO oauth_states (state_sha256, sealed_code_verifier, login_hint, created_at, expires_at)
VALUES ($1, $2, $3, ${fromEpochMs('$4')}, ${fromEpochMs('$5')})
ON CONFLICT (state_sha256) DO UPDATE SET
  sealed_code_verifier = EXCLUDED.sealed_code_verifier,
  login_hint = EXCLUDED.login_hint,
  created_at = EXCLUDED.created_at,
  expires_at = EXCLUDED.expires_at`

const TAKE = `
DELETE FROM oauth_states WHERE state_sha256 = $1
RETURNING sealed_code_verifier, login_hint, ${epochMs('created_at')} AS created_at, ${epochMs('expires_at')} AS expires_at`

interface StateRow {
  sealed_code_verifier: string
  login_hint: string | null
  created_at: number
  expires_at: number
}

const digestOf = (state: string): Buffer => createHash('sha256').update(state, 'utf8').digest()
const purposeOf = (digest: Buffer): string => `oauth-state:${digest.toString('hex')}`

export function postgresAuthorizationStates(
  pool: pg.Pool,
  cipher: TokenCipher,
  options: { max?: number } = {},
): AuthorizationStates {
  const max = Math.max(1, options.max ?? MAX_PENDING_AUTHORIZATIONS)
  return {
    async put(state, pending, expiresAt) {
      const digest = digestOf(state)
      const sealed = await cipher.encrypt(pending.codeVerifier, purposeOf(digest))
      await inDatabase(pool, 'remember the sign-in in progress', () =>
        pool.query(PUT, [digest, sealed, pending.loginHint ?? null, pending.createdAt, expiresAt, max - 1]),
      )
    },
    async take(state, now) {
      const digest = digestOf(state)
      // Spent here, whatever comes next: the row is gone for every replica.
      const { rows } = await inDatabase(pool, 'look up the sign-in in progress', () =>
        pool.query<StateRow>(TAKE, [digest]),
      )
      const row = rows[0]
      if (row === undefined || now > Math.round(row.expires_at)) return undefined
      const login: PendingAuthorization = {
        codeVerifier: await cipher.decrypt(row.sealed_code_verifier, purposeOf(digest)),
        createdAt: Math.round(row.created_at),
      }
      if (row.login_hint !== null) login.loginHint = row.login_hint
      return login
    },
  }
}
