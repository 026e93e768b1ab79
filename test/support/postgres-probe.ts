/**
 * Whether a PostgreSQL server answers at TEST_DATABASE_URL, asked once per
 * test run by the global setup (`postgres-setup.ts`), which prints the one
 * line saying its suites are skipped when none does. No vitest import here:
 * the global setup runs outside any test file.
 */
import pg from 'pg'

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

export interface PostgresProbe {
  /** The server to create test databases on (its database is the one to connect to for CREATE DATABASE). */
  url: string
  available: boolean
  /** Why it is not available, in a few words. */
  reason?: string
  /** REQUIRE_POSTGRES=1: a missing server fails the run instead of skipping. */
  required: boolean
}

declare module 'vitest' {
  /** What the global setup hands to every test file. */
  export interface ProvidedContext {
    postgres: PostgresProbe
  }
}

export function testDatabaseUrl(): string {
  return process.env['TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL
}

/** Where a URL points, without its user or password. */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || '5432'}`
  } catch {
    return 'an unparsable TEST_DATABASE_URL'
  }
}

export async function probePostgres(): Promise<PostgresProbe> {
  const url = testDatabaseUrl()
  const required = process.env['REQUIRE_POSTGRES'] === '1'
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 2_000,
    query_timeout: 2_000,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return { url, available: true, required }
  } catch (error) {
    const reason =
      error instanceof Error ? ((error as { code?: string }).code ?? error.message) : String(error)
    return { url, available: false, reason, required }
  } finally {
    await client.end().catch(() => {})
  }
}

/** The one line of a run without PostgreSQL. */
export function skipLine(probe: PostgresProbe): string {
  return (
    `PostgreSQL suites skipped: no PostgreSQL answers at ${describeServer(probe.url)} (${probe.reason}); ` +
    'set TEST_DATABASE_URL, or REQUIRE_POSTGRES=1 to make this a failure'
  )
}

export function requiredLine(probe: PostgresProbe): string {
  return `REQUIRE_POSTGRES=1 but no PostgreSQL answers at ${describeServer(probe.url)} (${probe.reason}); set TEST_DATABASE_URL`
}
