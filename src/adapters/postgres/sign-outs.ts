/**
 * Admin sign-outs on PostgreSQL (`admin_sign_outs`), shared by every
 * replica: a session signed out on one is refused by all. A row holds the
 * session's SHA-256, never the session, until the session's own expiry;
 * each sign-out drops the rows expired by then, so the table holds the
 * sessions still alive, not the history.
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import type { SignOuts } from '../../domain/ports.ts'
import { inDatabase } from './database-error.ts'
import { fromEpochMs } from './sql-time.ts'

/** $1 digest, $2 expires (ms), $3 now (ms). The digest's own row is left to the upsert. */
const ADD = `
WITH dropped AS (
  DELETE FROM admin_sign_outs WHERE expires_at < ${fromEpochMs('$3')} AND session_sha256 <> $1
)
INSERT INTO admin_sign_outs (session_sha256, expires_at) VALUES ($1, ${fromEpochMs('$2')})
ON CONFLICT (session_sha256) DO UPDATE SET
  expires_at = greatest(admin_sign_outs.expires_at, EXCLUDED.expires_at)`

const HAS = 'SELECT 1 FROM admin_sign_outs WHERE session_sha256 = $1'

const digestOf = (session: string): Buffer => createHash('sha256').update(session, 'utf8').digest()

export function postgresSignOuts(pool: pg.Pool): SignOuts {
  return {
    async add(session, expiresAt, now) {
      await inDatabase(pool, 'remember the sign-out', () =>
        pool.query(ADD, [digestOf(session), expiresAt, now]),
      )
    },
    async has(session) {
      const { rowCount } = await inDatabase(pool, 'check the admin session', () =>
        pool.query(HAS, [digestOf(session)]),
      )
      return (rowCount ?? 0) > 0
    },
  }
}
