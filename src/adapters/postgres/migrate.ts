/**
 * Applies the schema migrations at start, forward only, recorded in
 * `schema_migrations` (version, name, SHA-256 of the SQL, when).
 *
 * Everything runs in one transaction holding a transaction-level advisory
 * lock, so that replicas starting at once take turns: the first applies
 * what is missing, the others then find it recorded and apply nothing. A
 * failing migration leaves the database as it was (PostgreSQL's DDL is
 * transactional). A migration that cannot run in a transaction (CREATE
 * INDEX CONCURRENTLY) would need its own path; none does yet.
 *
 * Refused, with one sentence, and nothing changed: a database recording a
 * version newer than this build knows (an older build started on an
 * upgraded database), and a recorded migration whose SQL changed since it
 * was applied.
 */
import pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import { MIGRATIONS, type Migration } from './migrations/index.ts'

/** The advisory lock key of migrations (any constant the service uses for nothing else). */
export const MIGRATION_LOCK_KEY = 0x676d_6169_6c01n

/** How long one start may wait for the lock and apply migrations before giving up. */
const MIGRATION_TIMEOUT_MS = 5 * 60_000

export interface MigrationOutcome {
  /** The schema version of the database now. */
  version: number
  /** Versions applied by this call, in order (empty when the database was up to date). */
  applied: number[]
}

interface Recorded {
  version: number
  name: string
  checksum: string
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** The code's own list must be 1, 2, … n: a mistake here is the build's, not the database's. */
function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new ServiceError(
        'INTERNAL',
        `Schema migrations must be numbered 1, 2, 3… in order; found version ${migration.version} at position ${index + 1}`,
      )
    }
  })
}

function refuseNewer(latest: number, known: number): ServiceError {
  return new ServiceError(
    'CONFIG',
    `The database schema is at version ${latest}, newer than this build of the service knows (${known}): ` +
      'run the newer build, or restore the backup taken before the upgrade',
  )
}

function refuseChanged(recorded: Recorded, migration: Migration | undefined): ServiceError {
  const what = migration === undefined ? 'is unknown to this build' : 'has changed since it was applied'
  return new ServiceError(
    'CONFIG',
    `Schema migration ${recorded.version} (${recorded.name}) recorded in the database ${what}: ` +
      'migrations are forward only, so a change must be a new migration',
  )
}

type Client = pg.ClientBase

async function recordedMigrations(client: Client): Promise<Recorded[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`)
  const result = await client.query<Recorded>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  )
  return result.rows
}

async function migrateOn(
  client: Client,
  migrations: readonly Migration[],
  checksums: string[],
): Promise<MigrationOutcome> {
  await client.query("SELECT set_config('statement_timeout', $1, true)", [String(MIGRATION_TIMEOUT_MS)])
  await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY.toString()])
  const recorded = await recordedMigrations(client)
  const latest = recorded.at(-1)?.version ?? 0
  if (latest > migrations.length) throw refuseNewer(latest, migrations.length)
  for (const row of recorded) {
    const migration = migrations[row.version - 1]
    if (migration?.name !== row.name || checksums[row.version - 1] !== row.checksum) {
      throw refuseChanged(row, migration)
    }
  }
  const applied: number[] = []
  for (const [index, migration] of migrations.entries()) {
    if (recorded.some((row) => row.version === migration.version)) continue
    // Without parameters, node-postgres sends the simple protocol: a file of many statements runs as one.
    await client.query(migration.sql)
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      migration.version,
      migration.name,
      checksums[index],
    ])
    applied.push(migration.version)
  }
  return { version: migrations.length, applied }
}

/**
 * Brings the database up to the last of `migrations` (the service's own
 * by default; tests pass shorter or longer lists), on a connection taken
 * from `db` (a pool) or on `db` itself (a connected client).
 */
export async function migrate(
  db: pg.Pool | Client,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationOutcome> {
  checkOrder(migrations)
  const checksums = await Promise.all(migrations.map((migration) => sha256Hex(migration.sql)))
  const client = db instanceof pg.Pool ? await db.connect() : db
  try {
    await client.query('BEGIN')
    try {
      const outcome = await migrateOn(client, migrations, checksums)
      await client.query('COMMIT')
      return outcome
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    }
  } finally {
    if (client !== db) (client as pg.PoolClient).release()
  }
}
