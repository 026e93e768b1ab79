/**
 * Schema migrations on a real PostgreSQL: an empty database, one at the
 * previous version, three replicas starting at once, and the two refusals
 * (a database newer than the code, a recorded migration that changed).
 */
import pg from 'pg'
import { beforeEach, expect, it } from 'vitest'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { MIGRATIONS, type Migration } from '../../../src/adapters/postgres/migrations/index.ts'
import { isServiceError } from '../../../src/domain/errors.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'

/** Test-only migrations: v1, then v1 + v2; each logs itself in `applied_log` when it runs. */
const v1: Migration = {
  version: 1,
  name: 'widgets',
  sql: `CREATE TABLE widgets (id integer PRIMARY KEY);
    INSERT INTO widgets VALUES (1);
    CREATE TABLE applied_log (version integer NOT NULL);
    INSERT INTO applied_log VALUES (1);`,
}
const v2: Migration = {
  version: 2,
  name: 'widget colours',
  // The sleep widens the window in which two unlocked starters would both apply it.
  sql: `SELECT pg_sleep(0.2);
    ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'blue';
    INSERT INTO applied_log VALUES (2);`,
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isServiceError(error)) throw new Error(`expected a refusal, got ${String(error)}`)
  return error
}

describePostgres('schema migrations on PostgreSQL', () => {
  const db = useTestDatabase()
  const rows = async (text: string) => (await db.pool.query(text)).rows

  beforeEach(async () => {
    await db.pool.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public')
  })

  it("migrates an empty database to the service's latest schema, recording each migration once", async () => {
    const outcome = await migrate(db.pool)
    expect(outcome).toEqual({ version: MIGRATIONS.length, applied: MIGRATIONS.map((m) => m.version) })
    const tables = (await rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map(
      (row) => row.tablename,
    )
    expect(tables).toEqual(
      expect.arrayContaining([
        'schema_migrations',
        'accounts',
        'messages',
        'message_bodies',
        'idempotency_keys',
        'account_pacing',
        'daily_sends',
        'oauth_states',
        'admin_sign_outs',
        'rate_budgets',
      ]),
    )
    const recorded = await rows('SELECT version, name, length(checksum) AS digits FROM schema_migrations')
    expect(recorded).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name, digits: 64 })))
    expect(await migrate(db.pool)).toEqual({ version: MIGRATIONS.length, applied: [] })
  })

  it("brings the service's schema up from each earlier version", async () => {
    for (let at = 0; at < MIGRATIONS.length; at++) {
      await db.pool.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public')
      await migrate(db.pool, MIGRATIONS.slice(0, at))
      const outcome = await migrate(db.pool)
      expect(outcome.applied).toEqual(MIGRATIONS.slice(at).map((m) => m.version))
    }
  })

  it('migrates a database at the previous version, keeping its rows', async () => {
    expect(await migrate(db.pool, [v1])).toEqual({ version: 1, applied: [1] })
    expect(await migrate(db.pool, [v1, v2])).toEqual({ version: 2, applied: [2] })
    expect(await rows('SELECT id, colour FROM widgets')).toEqual([{ id: 1, colour: 'blue' }])
    expect(await rows('SELECT version FROM applied_log ORDER BY version')).toEqual([
      { version: 1 },
      { version: 2 },
    ])
  })

  it('applies each migration exactly once when three replicas start at once, on separate connections', async () => {
    const clients = [0, 1, 2].map(() => new pg.Client({ connectionString: db.url }))
    await Promise.all(clients.map((client) => client.connect()))
    try {
      const outcomes = await Promise.all(clients.map((client) => migrate(client, [v1, v2])))
      expect(outcomes.map((o) => o.applied).sort((a, b) => b.length - a.length)).toEqual([[1, 2], [], []])
    } finally {
      await Promise.all(clients.map((client) => client.end()))
    }
    expect(await rows('SELECT version FROM applied_log ORDER BY version')).toEqual([
      { version: 1 },
      { version: 2 },
    ])
    expect(await rows('SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: 2 }])
  })

  it('refuses to start on a database newer than the code, with one clear line, changing nothing', async () => {
    await migrate(db.pool, [v1, v2])
    const error = await refusal(migrate(db.pool, [v1]))
    expect(error.code).toBe('CONFIG')
    expect(error.message).toBe(
      'The database schema is at version 2, newer than this build of the service knows (1): ' +
        'run the newer build, or restore the backup taken before the upgrade',
    )
    expect(await rows('SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: 2 }])
  })

  it('refuses a recorded migration whose SQL changed since it was applied', async () => {
    await migrate(db.pool, [v1])
    const edited = { ...v1, sql: `${v1.sql}\nINSERT INTO widgets VALUES (2);` }
    const error = await refusal(migrate(db.pool, [edited, v2]))
    expect(error.code).toBe('CONFIG')
    expect(error.message).toBe(
      'Schema migration 1 (widgets) recorded in the database has changed since it was applied: ' +
        'migrations are forward only, so a change must be a new migration',
    )
    // Nothing of v2 was applied either.
    expect(await rows('SELECT version FROM applied_log')).toEqual([{ version: 1 }])
  })

  it('leaves the database as it was when a migration fails', async () => {
    const broken: Migration = {
      version: 2,
      name: 'broken',
      sql: 'ALTER TABLE no_such_table ADD COLUMN x int',
    }
    await expect(migrate(db.pool, [v1, broken])).rejects.toThrow(/no_such_table/)
    expect(await rows("SELECT to_regclass('widgets') AS widgets")).toEqual([{ widgets: null }])
    expect(await migrate(db.pool, [v1])).toEqual({ version: 1, applied: [1] })
  })
})
