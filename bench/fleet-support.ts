/**
 * What the fleet benchmark (`fleet.ts`) runs on: a scratch PostgreSQL
 * database, service processes (`node src/main/node.ts`, lowdb or
 * PostgreSQL mode) against one standalone emulator process, each with its
 * database round trips counted (`fleet-round-trips.ts`), and a watcher that
 * collects what Gmail received (the emulator process keeps only its newest
 * 1000 messages, so the watcher polls often and keeps them all).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { type ChildService, serviceBaseEnv, startChildService } from '../test/support/child-service.ts'
import { cookieFrom } from '../test/support/connect.ts'
import type { EmulatorProcess, ReceivedSummary } from '../test/support/emulator-process.ts'
import { TEST_ADMIN_TOKEN } from '../test/support/service.ts'
import { type UnbatchedClient, unbatchedClient } from './support.ts'

const ROUND_TRIPS_PRELOAD = fileURLToPath(new URL('./fleet-round-trips.ts', import.meta.url))
/** Google sends the browser here; the benchmark routes the callback to the replica it picks. */
const PUBLIC_URL = 'http://mail.fleet.invalid'

/** Round trips by the statement's first word (`SELECT`, `BEGIN`, …). */
export type RoundTrips = Record<string, number>

export function totalOf(trips: RoundTrips): number {
  return Object.values(trips).reduce((sum, n) => sum + n, 0)
}

/** `after - before`, kind by kind, summed over processes. */
export function tripsBetween(before: RoundTrips[], after: RoundTrips[]): RoundTrips {
  const sum: RoundTrips = {}
  for (const [index, counts] of after.entries()) {
    for (const [kind, n] of Object.entries(counts)) {
      sum[kind] = (sum[kind] ?? 0) + n - (before[index]?.[kind] ?? 0)
    }
  }
  return sum
}

/** What the server counted for a database once every connection to it had closed. */
export interface ServerCounts {
  transactions: number
  inserted: number
  updated: number
  deleted: number
}

export interface ScratchDatabase {
  name: string
  url: string
  /** Waits until no connection to it is left (their counters flushed), then reads them. */
  finalCounts(): Promise<ServerCounts>
  drop(): Promise<void>
}

const BASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Creates a database of a random name on the server of TEST_DATABASE_URL (default the local one). */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const admin = new pg.Pool({ connectionString: BASE_URL, max: 1, connectionTimeoutMillis: 5_000 })
  admin.on('error', () => {})
  const name = `${prefix}_${crypto.randomUUID().slice(0, 8)}`
  await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`)
  const target = new URL(BASE_URL)
  target.pathname = `/${name}`
  const url = target.toString()
  return {
    name,
    url,
    async finalCounts() {
      for (let waited = 0; waited < 10_000; waited += 50) {
        const open = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
          name,
        ])
        if (open.rows[0].n === 0) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const database = await admin.query(
        'SELECT (xact_commit + xact_rollback)::int AS n FROM pg_stat_database WHERE datname = $1',
        [name],
      )
      // Per-table counters are read inside the database: one more transaction, not counted above.
      const inside = new pg.Client({ connectionString: url })
      await inside.connect()
      const tables = await inside.query(
        `SELECT coalesce(sum(n_tup_ins), 0)::int AS ins, coalesce(sum(n_tup_upd), 0)::int AS upd,
           coalesce(sum(n_tup_del), 0)::int AS del FROM pg_stat_user_tables`,
      )
      await inside.end()
      const row = tables.rows[0]
      return { transactions: database.rows[0].n, inserted: row.ins, updated: row.upd, deleted: row.del }
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    },
  }
}

export interface ServiceProcess {
  name: string
  url: string
  apiKey: string
  client: UnbatchedClient
  child: ChildService
  /** This process's round trips so far (SIGUSR2, then the file it writes). */
  roundTrips(): Promise<RoundTrips>
  stop(): Promise<void>
}

/**
 * Starts `node src/main/node.ts` against `emulator`, in PostgreSQL mode when
 * `databaseUrl` is given (replica `name`), else on lowdb in a DATA_DIR of
 * its own; `env` comes over the defaults (no send wait, no API rate limit).
 */
export async function startServiceProcess(options: {
  name: string
  emulator: EmulatorProcess
  databaseUrl?: string
  env: Record<string, string>
}): Promise<ServiceProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), `gmail-send-fleet-${options.name}-`))
  const countsFile = join(dataDir, 'round-trips.json')
  const env: Record<string, string> = {
    ...serviceBaseEnv(dataDir),
    ...options.emulator.serviceEnv,
    PUBLIC_URL,
    SEND_WAIT_MS: '0',
    API_RATE_LIMIT_PER_MINUTE: '0',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info',
    NODE_OPTIONS: `--import=${ROUND_TRIPS_PRELOAD}`,
    FLEET_BENCH_COUNTS: countsFile,
    ...(options.databaseUrl === undefined
      ? {}
      : { DATABASE_URL: options.databaseUrl, REPLICA_ID: options.name }),
    ...options.env,
  }
  const child = await startChildService(env)
  // The JSON log is not read: keep only the last lines, for errors.
  const trim = () => {
    if (child.stdout.length > 200) child.stdout.splice(0, child.stdout.length - 100)
  }
  const trimmer = setInterval(trim, 1000)
  trimmer.unref()
  let dumps = 0
  return {
    name: options.name,
    url: child.url,
    apiKey: child.apiKey,
    client: unbatchedClient(child),
    child,
    async roundTrips() {
      dumps++
      child.process.kill('SIGUSR2')
      for (let waited = 0; waited < 5_000; waited += 10) {
        const text = await readFile(countsFile, 'utf8').catch(() => '')
        const read = text === '' ? undefined : (JSON.parse(text) as { dumps: number; counts: RoundTrips })
        if (read !== undefined && read.dumps >= dumps) return read.counts
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      throw new Error(`${options.name} wrote no round-trip counts`)
    },
    async stop() {
      clearInterval(trimmer)
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGTERM')
        const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000)
        await child.exited
        clearTimeout(timer)
      }
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** The admin connects `email` through `/oauth/login` and `/oauth/callback` of `service`. */
export async function connectThrough(
  service: ServiceProcess,
  emulator: EmulatorProcess,
  email: string,
): Promise<void> {
  const login = await fetch(`${service.url}/oauth/login`, {
    headers: { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    redirect: 'manual',
  })
  await login.body?.cancel()
  if (login.status !== 302) throw new Error(`/oauth/login of ${service.name} answered ${login.status}`)
  const redirect = new URL(await emulator.consent(login.headers.get('location')!, email))
  const callback = await fetch(`${service.url}${redirect.pathname}${redirect.search}`, {
    headers: { Cookie: cookieFrom(login, 'oauth_state') ?? '' },
    redirect: 'manual',
  })
  await callback.body?.cancel()
  if (callback.status !== 302) throw new Error(`Connecting ${email} answered ${callback.status}`)
}

export interface MailboxWatch {
  /** Every message received since the watch began or was last emptied, by emulator id. */
  readonly received: ReadonlyMap<string, ReceivedSummary>
  /** One more look at once. */
  poll(): Promise<void>
  /** Waits until `done()` holds after a look, or `timeoutMs`; whether it held. */
  until(done: () => boolean, timeoutMs: number): Promise<boolean>
  /** Empties the emulator's mailbox and the watch (call only when nothing is in flight). */
  clear(): Promise<void>
  stop(): void
}

/** Polls the emulator's mailbox every `intervalMs` and keeps every message it saw. */
export function watchMailbox(emulator: EmulatorProcess, intervalMs = 250): MailboxWatch {
  const received = new Map<string, ReceivedSummary>()
  let polling: Promise<void> | undefined
  const poll = (): Promise<void> => {
    polling ??= emulator
      .mailbox()
      .then((messages) => {
        for (const message of messages) received.set(message.id, message)
      })
      .finally(() => {
        polling = undefined
      })
    return polling
  }
  const timer = setInterval(() => void poll().catch(() => {}), intervalMs)
  return {
    received,
    poll,
    async until(done, timeoutMs) {
      const deadline = performance.now() + timeoutMs
      for (;;) {
        await poll()
        if (done()) return true
        if (performance.now() > deadline) return false
        await new Promise((resolve) => setTimeout(resolve, intervalMs))
      }
    },
    async clear() {
      await polling
      await emulator.clearMailbox()
      received.clear()
    },
    stop: () => clearInterval(timer),
  }
}

/** How many times each subject starting with `prefix` reached Gmail. */
export function copiesBySubject(watch: MailboxWatch, prefix: string): Map<string, number> {
  const copies = new Map<string, number>()
  for (const message of watch.received.values()) {
    if (message.subject.startsWith(prefix))
      copies.set(message.subject, (copies.get(message.subject) ?? 0) + 1)
  }
  return copies
}

/**
 * Whether every subject in `accepted` reached Gmail exactly once (nothing
 * else with `prefix`); a sentence about what did not, or undefined.
 */
export function deliveryProblem(
  watch: MailboxWatch,
  prefix: string,
  accepted: Set<string>,
): string | undefined {
  const copies = copiesBySubject(watch, prefix)
  const missing = [...accepted].filter((subject) => !copies.has(subject)).length
  const duplicated = [...copies.values()].filter((n) => n > 1).length
  const unknown = [...copies.keys()].filter((subject) => !accepted.has(subject)).length
  if (missing === 0 && duplicated === 0 && unknown === 0) return undefined
  return `${prefix.trim()}: ${missing} of ${accepted.size} accepted messages not sent, ${duplicated} sent more than once, ${unknown} sent but not accepted`
}
