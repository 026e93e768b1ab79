/**
 * PostgreSQL for tests: `describePostgres` runs a suite only where a server
 * answers at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres;
 * the global setup asked once and printed the one "skipped" line), and
 * `useTestDatabase()` gives the suite a fresh database of a random name,
 * dropped after its last test (also any extra one made with `another()`).
 *
 *   describePostgres('the outbox on PostgreSQL', () => {
 *     const db = useTestDatabase()
 *     it('…', async () => { await db.pool.query('SELECT 1') })
 *   })
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, inject } from 'vitest'
import { type PostgresProbe, probePostgres, requiredLine } from './postgres-probe.ts'

/** The global setup's answer; asked here when the file runs without it (another config). */
const probe: PostgresProbe = inject('postgres') ?? (await probePostgres())
if (!probe.available && probe.required) throw new Error(requiredLine(probe))

export const postgresAvailable = probe.available

/** `describe`, skipped where no PostgreSQL answers. */
export const describePostgres = describe.skipIf(!probe.available)

export interface TestDatabase {
  /** The URL of the fresh database (valid inside the suite's tests and hooks). */
  readonly url: string
  /** A pool of a few connections to it, closed after the suite. */
  readonly pool: pg.Pool
  /** Yet another fresh database (dropped after the suite too); its URL. */
  another(): Promise<string>
}

function urlOf(base: string, database: string): string {
  const url = new URL(base)
  url.pathname = `/${database}`
  return url.toString()
}

function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6))
  return `test_${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`
}

/** Registers the suite's hooks: a fresh database before the first test, dropped after the last. */
export function useTestDatabase(): TestDatabase {
  let admin: pg.Pool | undefined
  let pool: pg.Pool | undefined
  let url: string | undefined
  const created: string[] = []
  const create = async (): Promise<string> => {
    const name = randomName()
    // template0: never connected to, so that test files creating databases at once do not collide.
    await admin!.query(`CREATE DATABASE ${name} TEMPLATE template0`)
    created.push(name)
    return urlOf(probe.url, name)
  }
  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: probe.url, max: 1, connectionTimeoutMillis: 5_000 })
    url = await create()
    pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5_000 })
    // DROP … WITH (FORCE) may end a connection still closing: not an error of the test.
    for (const each of [admin, pool]) each.on('error', () => {})
  })
  afterAll(async () => {
    await pool?.end()
    for (const name of created) await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin?.end()
  })
  return {
    get url() {
      if (url === undefined)
        throw new Error('useTestDatabase(): the database exists only inside tests and hooks')
      return url
    },
    get pool() {
      if (pool === undefined)
        throw new Error('useTestDatabase(): the pool exists only inside tests and hooks')
      return pool
    },
    another: create,
  }
}
