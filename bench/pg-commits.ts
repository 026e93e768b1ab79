/**
 * What durability costs on PostgreSQL, per delivered message: the real
 * service (in this process, real mode, PostgreSQL store) against the
 * emulator, `mail.send` over the real tRPC client at concurrency 1 and 32,
 * each call answered once Gmail has the message. Before and after each
 * phase the server's own counters are read:
 *
 * - commits: `pg_stat_database.xact_commit` of the bench's database (every
 *   transaction, reads included);
 * - durable commits: transaction ids handed out (`pg_current_snapshot()`'s
 *   xmax), i.e. the transactions that wrote something and must reach disk;
 * - WAL flushes: `pg_stat_wal.wal_sync` (fsyncs of the WAL) and `wal_write`;
 * - round trips: every node-postgres `Client#query` to the bench's
 *   database made in this process, by the statement's first word.
 *
 * PostgreSQL flushes a backend's statistics at most once a second, an idle
 * one after up to 10 s; so that nothing is left pending, each phase starts
 * and ends with the database's backends ended (`pg_terminate_backend`, when
 * nothing is in flight: the pool opens new ones). The WAL counters are the
 * server's, not the database's: run on a quiet server (TEST_DATABASE_URL
 * may point at a private one) or read them as an upper bound.
 *
 * Variants, side by side in one run, each on a database of its own (with
 * `ALTER DATABASE … SET`, which a superuser may do per setting):
 * the defaults (`synchronous_commit = on`), `synchronous_commit = off`
 * everywhere (what it would give: acceptances lost in a crash of the
 * database server; the service warns at start), `commit_delay` (a
 * superuser's setting). What each costs: bench/notes.md.
 *
 * The counts include what the service does besides the sends (its 2 s
 * poll, the webhook dispatcher's), spread over the phase's messages.
 * Last, the store's path alone, synchronous and asynchronous outcomes
 * (`pg-store-path.ts`), where the service's CPU does not hide the flushes.
 *
 * Run alone: `node_modules/.bin/node bench/pg-commits.ts [--full]`
 * (TEST_DATABASE_URL: the server, default postgres://postgres@127.0.0.1:5432/postgres).
 */
import pg from 'pg'
import { createScratchDatabase, type ScratchDatabase } from './fleet-support.ts'
import { type BenchResult, formatStats } from './lib.ts'
import { type Counters, countRoundTrips, minus, readCounters, tripsByDatabase } from './pg-counters.ts'
import { benchStorePath } from './pg-store-path.ts'
import {
  closedLoop,
  deliveredCount,
  percentile,
  type RunningEmulator,
  type RunningService,
  startConnectedService,
  startEmulator,
  typicalMessage,
  unbatchedClient,
} from './support.ts'

/** Durable commits per delivered message at concurrency 32: well under one (each shared by several messages). */
const TARGET = 1

interface Variant {
  name: string
  /** `ALTER DATABASE … SET name = value` for each. */
  settings: Record<string, string>
  env: Record<string, string>
}

const VARIANTS: Variant[] = [
  { name: 'defaults (synchronous_commit=on)', settings: {}, env: {} },
  { name: 'synchronous_commit=off everywhere', settings: { synchronous_commit: 'off' }, env: {} },
  {
    name: 'commit_delay=1000us, commit_siblings=2',
    settings: { commit_delay: '1000', commit_siblings: '2' },
    env: {},
  },
]

interface Phase {
  delivered: number
  failures: number
  seconds: number
  latencies: number[]
  delta: Counters
}

interface Running {
  variant: Variant
  account: string
  database: ScratchDatabase
  service: RunningService
  sent: number
}

async function startVariant(
  admin: pg.Pool,
  emulator: RunningEmulator,
  variant: Variant,
  index: number,
): Promise<Running> {
  const database = await createScratchDatabase('bench_pg_commits')
  tripsByDatabase.set(database.name, {})
  for (const [name, value] of Object.entries(variant.settings)) {
    await admin.query(`ALTER DATABASE ${database.name} SET ${name} = '${value}'`)
  }
  const account = `commits${index}@example.com`
  const service = await startConnectedService(emulator, account, {
    DATABASE_URL: database.url,
    // The quota's reservations as deployed (pacing and a daily budget), far above what the run sends.
    GMAIL_SENDS_PER_MINUTE: '100000',
    GMAIL_SENDS_PER_DAY: '10000000',
    SEND_WAIT_MS: '60000',
    SEND_CONCURRENCY: '32',
    LOG_LEVEL: 'warn',
    ...variant.env,
  })
  return { variant, account, database, service, sent: 0 }
}

async function runPhase(
  admin: pg.Pool,
  emulator: RunningEmulator,
  running: Running,
  concurrency: number,
  durationMs: number,
): Promise<Phase> {
  const client = unbatchedClient(running.service)
  const before = await readCounters(admin, running.database)
  const started = performance.now()
  const load = await closedLoop({
    concurrency,
    durationMs,
    call: (index) => client.mail.send.mutate(typicalMessage(running.account, running.sent + index)),
    check: (record) => record.status === 'sent',
  })
  const seconds = (performance.now() - started) / 1000
  running.sent += load.calls
  const delivered = await deliveredCount(emulator, running.account, running.sent)
  const after = await readCounters(admin, running.database)
  return {
    delivered: delivered - (running.sent - load.calls),
    failures: load.failures,
    seconds,
    latencies: load.latencies,
    delta: minus(after, before),
  }
}

export async function benchPgCommits(options: {
  quick: boolean
  /** Indexes into the variants (default all). */
  variants?: number[]
}): Promise<BenchResult[]> {
  countRoundTrips()
  const rounds = options.quick ? 2 : 4
  const durationMs = options.quick ? 1_500 : 4_000
  const baseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const admin = new pg.Pool({ connectionString: baseUrl, max: 1 })
  admin.on('error', () => {})
  const emulator = await startEmulator()
  const variants: Running[] = []
  try {
    for (const [index, variant] of VARIANTS.entries()) {
      if (options.variants !== undefined && !options.variants.includes(index)) continue
      variants.push(await startVariant(admin, emulator, variant, index))
    }
    const results: BenchResult[] = []
    for (const concurrency of [1, 32]) {
      const phases = new Map<Running, Phase[]>(variants.map((running) => [running, []]))
      // Warm-up, then rounds alternating the variants' order, so that a busy moment weighs on all.
      for (const running of variants) await runPhase(admin, emulator, running, concurrency, durationMs / 3)
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? variants : [...variants].reverse()
        for (const running of order) {
          phases.get(running)!.push(await runPhase(admin, emulator, running, concurrency, durationMs))
        }
      }
      results.push(resultOf(concurrency, phases))
    }
    results.push(await benchStorePath({ rounds: options.quick ? 4 : 10, messages: options.quick ? 50 : 100 }))
    return results
  } finally {
    for (const running of variants) {
      await running.service.stop()
      await running.database.drop()
    }
    await emulator.close()
    await admin.end()
  }
}

const per = (n: number, messages: number) => (messages === 0 ? Number.NaN : n / messages)

function resultOf(concurrency: number, phases: Map<Running, Phase[]>): BenchResult {
  const lines: string[] = []
  let figure = Number.NaN
  let correct = true
  for (const [running, list] of phases) {
    const delivered = list.reduce((sum, phase) => sum + phase.delivered, 0)
    const sum = (pick: (counters: Counters) => number) => list.reduce((s, phase) => s + pick(phase.delta), 0)
    const trips: Record<string, number> = {}
    for (const phase of list) {
      for (const [kind, n] of Object.entries(phase.delta.trips)) trips[kind] = (trips[kind] ?? 0) + n
    }
    const totalTrips = Object.values(trips).reduce((s, n) => s + n, 0)
    const durable = per(
      sum((c) => c.xids),
      delivered,
    )
    if (running === [...phases.keys()][0]) figure = durable
    const failures = list.reduce((s, phase) => s + phase.failures, 0)
    const rollbacks = sum((c) => c.rollbacks)
    if (failures > 0) correct = false
    const rates = list.map((phase) => phase.delivered / phase.seconds)
    const latencies = list.flatMap((phase) => phase.latencies)
    lines.push(
      `${running.variant.name}: ${formatStats(rates, 'sends/s')}; p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
      `  per delivered message: ${per(
        sum((c) => c.commits),
        delivered,
      ).toFixed(2)} commits, ` +
        `${durable.toFixed(2)} durable (xids), ${per(
          sum((c) => c.walSync),
          delivered,
        ).toFixed(2)} WAL flushes ` +
        `(${per(
          sum((c) => c.walWrite),
          delivered,
        ).toFixed(2)} writes), ${per(totalTrips, delivered).toFixed(2)} round trips`,
      `  round trips: ${Object.entries(trips)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([kind, n]) => `${kind} ${per(n, delivered).toFixed(2)}`)
        .join(', ')}; ${delivered} delivered${rollbacks > 0 ? `, ${rollbacks} rollbacks` : ''}` +
        (failures > 0 ? `; CORRECTNESS: ${failures} calls failed` : ''),
    )
  }
  return {
    name: `PostgreSQL, mail.send at concurrency ${concurrency}: durable commits per delivered message (defaults)`,
    ratio: figure,
    target: concurrency === 32 ? `< ${TARGET}` : 'none (reported)',
    met: concurrency === 32 ? figure < TARGET : true,
    correct,
    lines,
  }
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  const only = process.argv.find((arg) => arg.startsWith('--variants='))
  const results = await benchPgCommits({
    quick: !process.argv.includes('--full'),
    ...(only === undefined ? {} : { variants: only.slice('--variants='.length).split(',').map(Number) }),
  })
  printResults(results)
  process.exit(results.every((result) => result.correct) ? 0 : 1)
}
