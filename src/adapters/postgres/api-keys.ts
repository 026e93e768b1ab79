/**
 * API keys made at run time on PostgreSQL (`api_keys` of migration 2),
 * shared by every replica. Nothing is cached: `findByDigest` is one lookup
 * of the unique digest index on each call, so that a key revoked by one
 * replica is refused by every other at its next request. Only each key's
 * SHA-256 is stored, never the key. Uniqueness of id and digest is the
 * table's (two replicas creating at once cannot both win).
 */
import type pg from 'pg'
import { z } from 'zod'
import type { ApiKeyEntry, ApiKeyStore } from '../../domain/api-keys/api-key.ts'
import {
  checkNewApiKey,
  duplicateDigest,
  duplicateId,
  storedKeyScopeSchema,
} from '../../domain/api-keys/stored-entry.ts'
import { ServiceError } from '../../domain/errors.ts'
import { databaseError } from './database-error.ts'
import { epochMs, fromEpochMs } from './sql-time.ts'

const COLUMNS = `id, name, digest, scope, source, ${epochMs('created_at')} AS created_at,
  ${epochMs('last_used_at')} AS last_used_at, ${epochMs('revoked_at')} AS revoked_at`

const INSERT = `
INSERT INTO api_keys (id, name, digest, scope, source, created_at, last_used_at, revoked_at)
VALUES ($1, $2, $3, $4::jsonb, $5, ${fromEpochMs('$6')}, ${fromEpochMs('$7')}, ${fromEpochMs('$8')})`

const REVOKE = `
UPDATE api_keys SET revoked_at = coalesce(revoked_at, ${fromEpochMs('$2')}) WHERE id = $1 RETURNING ${COLUMNS}`

// GREATEST ignores a NULL: the first use sets it, a late, older touch from another replica changes nothing.
const TOUCH = `UPDATE api_keys SET last_used_at = greatest(last_used_at, ${fromEpochMs('$2')}) WHERE id = $1`

const rowSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  digest: z.string(),
  scope: storedKeyScopeSchema,
  source: z.enum(['api', 'config']),
  created_at: z.number(),
  last_used_at: z.number().nullable(),
  revoked_at: z.number().nullable(),
})

/** The key store over `pool`. */
export function postgresApiKeys(pool: pg.Pool): ApiKeyStore {
  const run = async <T>(action: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw databaseError(error, pool, action)
    }
  }
  return {
    async create(entry) {
      // The table answers for duplicates, atomically across replicas.
      const stored = checkNewApiKey(entry, { hasId: () => false, hasDigest: () => false })
      try {
        await pool.query(INSERT, [
          stored.id,
          stored.name,
          stored.digest,
          JSON.stringify(stored.scope),
          stored.source,
          stored.createdAt,
          stored.lastUsedAt ?? null,
          stored.revokedAt ?? null,
        ])
      } catch (error) {
        const constraint = uniqueViolation(error)
        if (constraint === 'api_keys_pkey') throw duplicateId(stored.id)
        if (constraint === 'api_keys_digest_key') throw duplicateDigest()
        throw databaseError(error, pool, 'store the API key')
      }
    },

    list: () =>
      run('list the API keys', async () => {
        const { rows } = await pool.query(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, seq`)
        return rows.map(entryOf)
      }),

    findByDigest: (digest) =>
      run('look up the API key', async () => {
        const { rows } = await pool.query(`SELECT ${COLUMNS} FROM api_keys WHERE digest = $1`, [digest])
        return rows[0] === undefined ? undefined : entryOf(rows[0])
      }),

    revoke: (id, at) =>
      run('revoke the API key', async () => {
        const { rows } = await pool.query(REVOKE, [id, at])
        return rows[0] === undefined ? undefined : entryOf(rows[0])
      }),

    touch: (id, at) =>
      run('record the use of the API key', async () => {
        await pool.query(TOUCH, [id, at])
      }),
  }
}

/** The entry a row holds; throws STORAGE naming the key and the columns for a row of the wrong shape. */
function entryOf(raw: unknown): ApiKeyEntry {
  const parsed = rowSchema.safeParse(raw)
  if (!parsed.success) {
    const columns = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? 'row')))]
    const id = (raw as { id?: unknown } | null)?.id
    throw new ServiceError(
      'STORAGE',
      `The stored API key ${typeof id === 'string' ? JSON.stringify(id) : '(without an id)'} in the database does not have the expected shape (${columns.join(', ')})`,
      { cause: parsed.error },
    )
  }
  const row = parsed.data
  const entry: ApiKeyEntry = {
    id: row.id,
    name: row.name,
    digest: row.digest,
    scope: row.scope,
    source: row.source,
    createdAt: Math.round(row.created_at),
  }
  if (row.last_used_at !== null) entry.lastUsedAt = Math.round(row.last_used_at)
  if (row.revoked_at !== null) entry.revokedAt = Math.round(row.revoked_at)
  return entry
}

/** The constraint a unique violation (SQLSTATE 23505) broke, or undefined for any other error. */
function uniqueViolation(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { code, constraint } = error as { code?: unknown; constraint?: unknown }
  return code === '23505' && typeof constraint === 'string' ? constraint : undefined
}
