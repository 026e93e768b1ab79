/**
 * How each driver behaves when PostgreSQL cannot be reached, measured on
 * 127.0.0.1 only: a closed port (refused at once), a silent server (accepts
 * the TCP connection and never answers: a hung server, or a firewall
 * that drops packets), and a connection that goes silent after it was
 * established (the network dies mid-session). Each case runs `SELECT 1`
 * and reports how long the driver took to fail, or that it was still
 * waiting when we stopped watching.
 */
import pg from 'pg'
import postgres from 'postgres'
import { closedPort, freezableProxy, silentServer } from '../test/support/tcp-faults.ts'
import type { DriverName } from './pg-subjects.ts'

export interface OutageFigure {
  case: string
  driver: DriverName
  /** Milliseconds until the query failed; undefined when it had not failed after `watchedMs`. */
  failedAfterMs: number | undefined
  watchedMs: number
  error: string | undefined
}

interface Query {
  run(): Promise<unknown>
  close(): void
}

/** A driver configured with a 1 s connect timeout and a 1 s statement timeout, or with its defaults. */
function open(driver: DriverName, url: string, configured: boolean): Query {
  if (driver === 'postgres') {
    const sql = postgres(url, {
      max: 1,
      onnotice: () => {},
      ...(configured ? { connect_timeout: 1, connection: { statement_timeout: 1_000 } } : {}),
    })
    return { run: () => sql`SELECT 1`, close: () => void sql.end({ timeout: 0 }).catch(() => {}) }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    ...(configured ? { connectionTimeoutMillis: 1_000, statement_timeout: 1_000, query_timeout: 1_000 } : {}),
  })
  pool.on('error', () => {})
  return { run: () => pool.query('SELECT 1'), close: () => void pool.end().catch(() => {}) }
}

async function timed(query: () => Promise<unknown>, watchedMs: number) {
  const started = performance.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  const watching = new Promise<'watching'>((resolve) => {
    timer = setTimeout(() => resolve('watching'), watchedMs)
  })
  try {
    const outcome = await Promise.race([query().then(() => 'answered' as const), watching])
    if (outcome === 'answered') return { failedAfterMs: undefined, error: 'answered (unexpected)' }
    return { failedAfterMs: undefined, error: undefined }
  } catch (error) {
    const text = error instanceof Error ? `${(error as { code?: string }).code ?? ''} ${error.message}` : ''
    return { failedAfterMs: performance.now() - started, error: text.trim().slice(0, 90) }
  } finally {
    clearTimeout(timer)
  }
}

function withPort(url: string, port: number): string {
  const copy = new URL(url)
  copy.hostname = '127.0.0.1'
  copy.port = String(port)
  return copy.toString()
}

/** Every case for every driver, all at once (each waits on its own sockets), in a stable order. */
export async function measureOutages(
  url: string,
  drivers: DriverName[],
  watchedMs: number,
): Promise<OutageFigure[]> {
  const single = async (name: string, driver: DriverName, target: string, configured: boolean) => {
    const query = open(driver, target, configured)
    const outcome = await timed(() => query.run(), watchedMs)
    query.close()
    return { case: name, driver, watchedMs, ...outcome }
  }
  const midSession = async (driver: DriverName, configured: boolean) => {
    const proxy = await freezableProxy(new URL(url))
    const query = open(driver, withPort(url, proxy.port), configured)
    await query.run()
    proxy.freeze()
    const outcome = await timed(() => query.run(), watchedMs)
    query.close()
    proxy.close()
    const name = `network silent mid-session, ${configured ? '1 s timeouts' : 'driver defaults'}`
    return { case: name, driver, watchedMs, ...outcome }
  }
  const silent = await silentServer()
  try {
    const cases = drivers.flatMap((driver) => [
      closedPort().then((port) => single('closed port, 1 s timeouts', driver, withPort(url, port), true)),
      single('silent server, 1 s connect timeout', driver, withPort(url, silent.port), true),
      single('silent server, driver defaults', driver, withPort(url, silent.port), false),
      midSession(driver, true),
      midSession(driver, false),
    ])
    return await Promise.all(cases)
  } finally {
    silent.close()
  }
}
