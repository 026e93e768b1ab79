/**
 * Opens PostgreSQL from a `DATABASE_URL` with node-postgres (`pg`, chosen by
 * `bench/pg-drivers.ts`; see docs/benchmarks.md) and timeouts that keep a
 * dead or hung database from hanging the service:
 *
 * - connect: a connection not established within `connectTimeoutMs` fails;
 * - statement: the server cancels a statement running past `statementTimeoutMs`;
 * - query: the client gives up on an answer `queryTimeoutMs` late (a network
 *   gone silent mid-session, which the server's timeout cannot see);
 * - idle in transaction: the server ends a session idle inside a transaction
 *   (a replica frozen while holding row locks) after `idleInTransactionTimeoutMs`;
 * - idle: the pool closes connections idle for `idleTimeoutMs`.
 *
 * An unreachable database becomes `SERVICE_UNAVAILABLE` (retryable) with a
 * sentence naming host and port, never the password.
 */
import pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'

export interface PostgresOptions {
  /** Largest number of connections of the pool (default 10). */
  max?: number
  connectTimeoutMs?: number
  statementTimeoutMs?: number
  queryTimeoutMs?: number
  idleTimeoutMs?: number
  idleInTransactionTimeoutMs?: number
  /** Called with an error of an idle connection (the server restarted, the network broke). */
  onIdleError?: (error: Error) => void
}

export const POSTGRES_DEFAULTS = {
  max: 10,
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 30_000,
  /** A little above the statement timeout, so that the server's cancel normally comes first. */
  queryTimeoutMs: 35_000,
  idleTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
} as const

/** How long a caller refused for an unreachable database is told to wait. */
export const UNAVAILABLE_RETRY_AFTER_MS = 5_000

const APPLICATION_NAME = 'gmail-send-service'

/** Socket errors of a database that cannot be reached, with what to say about them. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
}

/** SQLSTATEs meaning the server is there but cannot serve now. */
const SERVER_REASONS: Record<string, string> = {
  '57P01': 'the server is shutting down',
  '57P02': 'the server is shutting down',
  '57P03': 'the server is starting up',
  '53300': 'too many connections',
}

/** Where a database URL points, for messages: `host:port/database`, never the user or password. */
export function describeDatabase(databaseUrl: string): string {
  const url = new URL(databaseUrl)
  return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname === '/' ? '' : url.pathname}`
}

function parseDatabaseUrl(databaseUrl: string): URL {
  let url: URL
  try {
    url = new URL(databaseUrl)
  } catch {
    throw new ServiceError('CONFIG', 'DATABASE_URL must be a URL like postgres://user@host:5432/database')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ServiceError('CONFIG', 'DATABASE_URL must start with postgres:// or postgresql://')
  }
  return url
}

function reasonOf(error: unknown, timeouts: { connectTimeoutMs: number; queryTimeoutMs: number }) {
  if (!(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && NETWORK_REASONS[code]) return NETWORK_REASONS[code]
  if (typeof code === 'string' && SERVER_REASONS[code]) return SERVER_REASONS[code]
  if (typeof code === 'string' && code.startsWith('08')) return 'connection failure'
  // node-postgres's own errors carry no code; these sentences are stable across its 8.x releases.
  if (/connection timeout/i.test(error.message))
    return `no connection within ${seconds(timeouts.connectTimeoutMs)}`
  if (/Query read timeout/i.test(error.message)) return `no answer within ${seconds(timeouts.queryTimeoutMs)}`
  if (/Connection terminated/i.test(error.message)) return 'connection lost'
  return undefined
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/**
 * The `SERVICE_UNAVAILABLE` error for a driver error meaning the database
 * at `databaseUrl` cannot be reached or did not answer; `undefined` for any
 * other error (a constraint violation, a syntax error), which the caller
 * handles or rethrows.
 */
export function unavailableError(
  error: unknown,
  databaseUrl: string,
  options: PostgresOptions = {},
): ServiceError | undefined {
  const reason = reasonOf(error, {
    connectTimeoutMs: options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs ?? POSTGRES_DEFAULTS.queryTimeoutMs,
  })
  if (reason === undefined) return undefined
  return new ServiceError(
    'SERVICE_UNAVAILABLE',
    `The database (PostgreSQL at ${describeDatabase(databaseUrl)}) cannot be reached: ${reason}; nothing was done, retry later`,
    { retryable: true, retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS, cause: error },
  )
}

/** A pool over `databaseUrl`; connects lazily (see `connectPostgres` to check at once). */
export function openPostgres(databaseUrl: string, options: PostgresOptions = {}): pg.Pool {
  const url = parseDatabaseUrl(databaseUrl)
  const settings = { ...POSTGRES_DEFAULTS, ...options }
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: settings.max,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.queryTimeoutMs,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
    idleTimeoutMillis: settings.idleTimeoutMs,
    application_name: APPLICATION_NAME,
    keepAlive: true,
  })
  // An idle connection's error is emitted on the pool; unheard, it would end the process.
  pool.on('error', (error) => options.onIdleError?.(error))
  // A connection that breaks while checked out (the database went away mid-query) emits 'error' on
  // its client, where nobody listens: node would end the process. The query in progress gets the
  // error itself, and the broken connection is discarded when released.
  pool.on('connect', (client) => {
    client.on('error', () => {})
  })
  return pool
}

/**
 * A sentence for the log when the database commits without waiting for
 * the disk (`synchronous_commit = off` for this login): an acceptance could
 * then be answered and lost in a crash of the database server. `local`,
 * `remote_write`, `on` and `remote_apply` all wait for the local disk.
 */
export async function asynchronousCommitWarning(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ setting: string }>(
    `SELECT current_setting('synchronous_commit') AS setting`,
  )
  if (rows[0]?.setting !== 'off') return undefined
  return 'The database commits asynchronously (synchronous_commit = off): a message answered as accepted can be lost if the database server crashes; set synchronous_commit to on for this database or role'
}

/**
 * Opens the pool and checks the database answers (`SELECT 1`): throws
 * `SERVICE_UNAVAILABLE` when it cannot be reached, `CONFIG` when it refuses
 * the login or the database does not exist.
 */
export async function connectPostgres(databaseUrl: string, options: PostgresOptions = {}): Promise<pg.Pool> {
  const pool = openPostgres(databaseUrl, options)
  try {
    await pool.query('SELECT 1')
    return pool
  } catch (error) {
    await pool.end().catch(() => {})
    const unavailable = unavailableError(error, databaseUrl, options)
    if (unavailable) throw unavailable
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('28') || code === '3D000')) {
      throw new ServiceError(
        'CONFIG',
        `PostgreSQL at ${describeDatabase(databaseUrl)} refused the connection: ${(error as Error).message}`,
        { cause: error },
      )
    }
    throw error
  }
}
