/**
 * Opening PostgreSQL: an unreachable database (a closed port, a server that
 * never answers, a network gone silent mid-session) is a clear, retryable
 * SERVICE_UNAVAILABLE naming host and port and never the password; a wrong
 * database is CONFIG; a reachable one runs with the configured timeouts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { formatError, toTrpcError } from '../../../src/adapters/http/trpc/errors.ts'
import {
  asynchronousCommitWarning,
  connectPostgres,
  openPostgres,
  unavailableError,
} from '../../../src/adapters/postgres/connect.ts'
import { isServiceError, type ServiceError } from '../../../src/domain/errors.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'
import { closedPort, freezableProxy, silentServer } from '../../support/tcp-faults.ts'

const closers: Array<() => void> = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

/** Accepts connections and never answers (closed after the test). */
async function silentPort(): Promise<number> {
  const silent = await silentServer()
  closers.push(silent.close)
  return silent.port
}

async function refusal(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isServiceError(error)) throw new Error(`expected a ServiceError, got ${String(error)}`)
  return error
}

describe('connectPostgres when the database cannot be reached', () => {
  it('answers SERVICE_UNAVAILABLE for a closed port, naming host and port, never the password', async () => {
    const port = await closedPort()
    const error = await refusal(connectPostgres(`postgres://svc:hunter2@127.0.0.1:${port}/mail`))
    expect(error.code).toBe('SERVICE_UNAVAILABLE')
    expect(error.retryable).toBe(true)
    expect(error.retryAfterMs).toBeGreaterThan(0)
    expect(error.message).toBe(
      `The database (PostgreSQL at 127.0.0.1:${port}/mail) cannot be reached: connection refused; nothing was done, retry later`,
    )
    expect(error.message).not.toContain('hunter2')
    expect(error.message).not.toContain('svc')
  })

  it('gives up on a server that never answers after the connect timeout', async () => {
    const port = await silentPort()
    const error = await refusal(
      connectPostgres(`postgres://127.0.0.1:${port}/mail`, { connectTimeoutMs: 300 }),
    )
    expect(error.code).toBe('SERVICE_UNAVAILABLE')
    expect(error.message).toContain('cannot be reached: no connection within 300 ms')
  })

  it('refuses a DATABASE_URL that is not a postgres:// URL, with a sentence', async () => {
    const notUrl = await refusal(connectPostgres('localhost:5432'))
    expect(notUrl).toMatchObject({
      code: 'CONFIG',
      message: 'DATABASE_URL must start with postgres:// or postgresql://',
    })
    const garbage = await refusal(connectPostgres('not a url'))
    expect(garbage.code).toBe('CONFIG')
    expect(garbage.message).toMatch(/^DATABASE_URL must be a URL like postgres:\/\//)
  })

  it('reaches a tRPC caller as HTTP 503 SERVICE_UNAVAILABLE with its wait', async () => {
    const error = await refusal(connectPostgres(`postgres://127.0.0.1:${await closedPort()}/mail`))
    const trpc = toTrpcError(error)
    const shape = { message: trpc.message, code: -32603, data: { httpStatus: 503 } }
    expect(trpc.code).toBe('SERVICE_UNAVAILABLE')
    expect(formatError({ shape, error: trpc }).data).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      retryAfterMs: error.retryAfterMs,
    })
  })

  it('opens lazily: a pool over an unreachable database is made without a connection', async () => {
    const pool = openPostgres(`postgres://127.0.0.1:${await closedPort()}/mail`)
    expect(pool.totalCount).toBe(0)
    await pool.end()
  })

  it('does not call an error of the database itself "unreachable"', () => {
    const syntax = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' })
    const unique = Object.assign(new Error('duplicate key value'), { code: '23505' })
    expect(unavailableError(syntax, 'postgres://127.0.0.1/mail')).toBeUndefined()
    expect(unavailableError(unique, 'postgres://127.0.0.1/mail')).toBeUndefined()
  })
})

describePostgres('connectPostgres with a reachable database', () => {
  const db = useTestDatabase()

  it('runs with the statement, idle-in-transaction and application settings', async () => {
    const pool = await connectPostgres(db.url, { statementTimeoutMs: 1_500 })
    try {
      const show = async (name: string) => (await pool.query(`SHOW ${name}`)).rows[0]?.[name]
      expect(await show('statement_timeout')).toBe('1500ms')
      expect(await show('idle_in_transaction_session_timeout')).toBe('1min')
      expect(await show('application_name')).toBe('gmail-send-service')
    } finally {
      await pool.end()
    }
  })

  it('cancels a statement running past the statement timeout (an error of the database, not an outage)', async () => {
    const pool = await connectPostgres(db.url, { statementTimeoutMs: 200 })
    try {
      const error = await pool.query('SELECT pg_sleep(5)').catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: '57014' })
      expect(unavailableError(error, db.url)).toBeUndefined()
    } finally {
      await pool.end()
    }
  })

  it('gives up on a query when the network goes silent mid-session, as SERVICE_UNAVAILABLE', async () => {
    const url = new URL(db.url)
    const proxy = await freezableProxy(url)
    closers.push(proxy.close)
    const viaProxy = new URL(db.url)
    viaProxy.hostname = '127.0.0.1'
    viaProxy.port = String(proxy.port)
    const pool = await connectPostgres(viaProxy.toString(), { queryTimeoutMs: 300 })
    proxy.freeze()
    const error = await pool.query('SELECT 1').catch((caught: unknown) => caught)
    const mapped = unavailableError(error, viaProxy.toString(), { queryTimeoutMs: 300 })
    expect(mapped?.code).toBe('SERVICE_UNAVAILABLE')
    expect(mapped?.message).toContain('cannot be reached: no answer within 300 ms')
    void pool.end().catch(() => {})
  })

  it('warns when the database answers commits before they are on disk (synchronous_commit = off)', async () => {
    const pool = await connectPostgres(db.url)
    try {
      expect(await asynchronousCommitWarning(pool)).toBeUndefined()
    } finally {
      await pool.end()
    }
    const other = await db.another()
    const name = new URL(other).pathname.slice(1)
    await db.pool.query(`ALTER DATABASE ${name} SET synchronous_commit = off`)
    const asynchronous = await connectPostgres(other)
    try {
      expect(await asynchronousCommitWarning(asynchronous)).toMatch(
        /^The database commits asynchronously \(synchronous_commit = off\): a message answered as accepted can be lost/,
      )
    } finally {
      await asynchronous.end()
    }
  })

  it('says CONFIG when the database does not exist', async () => {
    const missing = new URL(db.url)
    missing.pathname = '/no_such_database_here'
    const error = await refusal(connectPostgres(missing.toString()))
    expect(error.code).toBe('CONFIG')
    expect(error.message).toContain('refused the connection: database "no_such_database_here" does not exist')
  })
})
