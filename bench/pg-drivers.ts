/**
 * `npm run bench:pg`: the two PostgreSQL drivers, postgres (postgres.js)
 * and pg (node-postgres), side by side on what PostgreSQL mode does, on
 * Node and on Deno in one run (Node measures itself, then runs this file
 * under Deno with `--child`). Figures are postgres / pg ratios per round,
 * rounds alternating the drivers so that a busy machine slows both alike.
 *
 *   npm run bench:pg                 quick (about a minute)
 *   npm run bench:pg -- --full       more and longer rounds
 *   ./node_modules/.bin/deno run -A bench/pg-drivers.ts    Deno alone
 *
 * Measured, each driver with a pool of 10 connections (the service's size):
 * (a) acceptance, one transaction inserting a message row, its ~4 KB
 * `bytea` body and its idempotency key, at concurrency 1 and 32
 * (throughput, p50/p99); (b) claims, `UPDATE … WHERE id IN (SELECT … FOR
 * UPDATE SKIP LOCKED LIMIT 10) RETURNING …` by 8 concurrent workers over
 * seeded due messages, checking that every message is claimed exactly
 * once; (c) LISTEN/NOTIFY round trip between two connections; (d) the
 * outage cases of `pg-outage.ts`. PostgreSQL at TEST_DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres); a scratch
 * database is created and dropped.
 */
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import postgres from 'postgres'
import { migrate } from '../src/adapters/postgres/migrate.ts'
import { MIGRATIONS } from '../src/adapters/postgres/migrations/index.ts'
import { printChildResult, resultOfChild } from './child.ts'
import { formatStats, stats } from './lib.ts'
import { measureOutages, type OutageFigure } from './pg-outage.ts'
import { type DriverName, POOL_SIZE, SUBJECTS, type Subject } from './pg-subjects.ts'

const DRIVERS: DriverName[] = ['postgres', 'pg']
const args = process.argv.slice(2)
const full = args.includes('--full')
const child = args.includes('--child')
const isDeno = 'Deno' in globalThis
const runtime = isDeno
  ? `Deno ${(globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno}`
  : `Node ${process.version}`
const settings = full
  ? { rounds: 5, c1Ms: 2_000, c32Ms: 3_000, claimed: 5_000, notifies: 1_000, watchedMs: 5_000 }
  : { rounds: 3, c1Ms: 800, c32Ms: 1_200, claimed: 2_000, notifies: 200, watchedMs: 3_000 }

interface Load {
  /** Per round: operations per second, and every latency in ms. */
  throughput: number[]
  latencies: number[]
}

interface RuntimeFigures {
  runtime: string
  accept1: Record<DriverName, Load>
  accept32: Record<DriverName, Load>
  claim: Record<DriverName, Load>
  notify: Record<DriverName, number[]>
  outages: OutageFigure[]
  /** Correctness: every seeded message claimed exactly once, every acceptance committed. */
  problems: string[]
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  )
}

const emptyLoads = (): Record<DriverName, Load> => ({
  postgres: { throughput: [], latencies: [] },
  pg: { throughput: [], latencies: [] },
})

async function closedLoop(concurrency: number, durationMs: number, call: (index: number) => Promise<void>) {
  const latencies: number[] = []
  let next = 0
  const started = performance.now()
  const worker = async () => {
    while (performance.now() - started < durationMs) {
      const at = performance.now()
      await call(next++)
      latencies.push(performance.now() - at)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { throughput: (latencies.length * 1000) / (performance.now() - started), latencies }
}

async function seedDue(admin: postgres.Sql, count: number): Promise<void> {
  await admin`TRUNCATE messages CASCADE`
  await admin`INSERT INTO messages (id, account, from_header, to_addresses, subject, status, created_at,
    next_attempt_at, size, message_id_header)
    SELECT 'due-' || g, 'ann@example.com', 'ann@example.com', ARRAY['bob@example.com'], 'Hello', 'queued',
      now(), now() - interval '1 minute', 100, '<' || g || '@bench>'
    FROM generate_series(1, ${count}) AS g`
  await admin`ANALYZE messages`
}

async function measureRuntime(url: string): Promise<RuntimeFigures> {
  const admin = postgres(url, { max: 1, onnotice: () => {} })
  const subjects: Subject[] = []
  for (const name of DRIVERS) subjects.push(await SUBJECTS[name](url))
  const figures: RuntimeFigures = {
    runtime,
    accept1: emptyLoads(),
    accept32: emptyLoads(),
    claim: emptyLoads(),
    notify: { postgres: [], pg: [] },
    outages: [],
    problems: [],
  }
  const body = crypto.getRandomValues(new Uint8Array(4096))
  const tag = isDeno ? 'deno' : 'node'
  for (let round = 0; round < settings.rounds; round++) {
    for (const [concurrency, key, ms] of [
      [1, 'accept1', settings.c1Ms],
      [32, 'accept32', settings.c32Ms],
    ] as const) {
      for (const subject of subjects) {
        await admin`TRUNCATE messages CASCADE`
        const load = await closedLoop(concurrency, ms, (i) =>
          subject.accept(`${tag}-${subject.name}-${concurrency}-${round}-${i}`, body),
        )
        const [row] = await admin<[{ n: number }]>`SELECT count(*)::int AS n FROM idempotency_keys`
        if (row?.n !== load.latencies.length) figures.problems.push(`${subject.name}: acceptances lost`)
        figures[key][subject.name].throughput.push(load.throughput)
        figures[key][subject.name].latencies.push(...load.latencies)
      }
    }
    for (const subject of subjects) {
      await seedDue(admin, settings.claimed)
      const claimed: string[] = []
      const latencies: number[] = []
      const started = performance.now()
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (;;) {
            const at = performance.now()
            const ids = await subject.claim(`${tag}-worker-${w}`, 10)
            latencies.push(performance.now() - at)
            if (ids.length === 0) return
            claimed.push(...ids)
          }
        }),
      )
      const elapsed = performance.now() - started
      if (claimed.length !== settings.claimed || new Set(claimed).size !== settings.claimed) {
        figures.problems.push(`${subject.name}: ${claimed.length} claims for ${settings.claimed} messages`)
      }
      figures.claim[subject.name].throughput.push((claimed.length * 1000) / elapsed)
      figures.claim[subject.name].latencies.push(...latencies)
    }
  }
  for (let i = 0; i < settings.notifies; i++) {
    for (const subject of subjects) {
      figures.notify[subject.name].push(await subject.notifyRoundTrip(`${tag}-${i}`))
    }
  }
  await admin`TRUNCATE messages CASCADE`
  for (const subject of subjects) await subject.end()
  await admin.end()
  figures.outages = await measureOutages(url, DRIVERS, settings.watchedMs)
  return figures
}

function ms(value: number): string {
  return `${value.toFixed(2)} ms`
}

function describe(figures: RuntimeFigures): string[] {
  const lines = [`${figures.runtime}:`]
  const load = (title: string, loads: Record<DriverName, Load>, unit: string) => {
    const [a, b] = [loads.postgres, loads.pg]
    lines.push(
      `  ${title}, postgres / pg throughput ${stats(a.throughput.map((x, i) => x / b.throughput[i]!)).median.toFixed(2)}`,
    )
    for (const name of DRIVERS) {
      const l = loads[name]
      lines.push(
        `    ${name.padEnd(8)} ${formatStats(l.throughput, unit)}; p50 ${ms(percentile(l.latencies, 50))}, p99 ${ms(percentile(l.latencies, 99))}`,
      )
    }
    lines.push(
      `    p99 postgres / pg ${(percentile(a.latencies, 99) / percentile(b.latencies, 99)).toFixed(2)}`,
    )
  }
  load('(a) acceptance, concurrency 1', figures.accept1, 'tx/s')
  load(`(a) acceptance, concurrency 32 on ${POOL_SIZE} connections`, figures.accept32, 'tx/s')
  load('(b) claims of 10 by 8 workers', figures.claim, 'messages/s')
  const [n1, n2] = [figures.notify.postgres, figures.notify.pg]
  lines.push(
    `  (c) LISTEN/NOTIFY round trip, p50 postgres / pg ${(percentile(n1, 50) / percentile(n2, 50)).toFixed(2)}`,
  )
  for (const name of DRIVERS) {
    const values = figures.notify[name]
    lines.push(`    ${name.padEnd(8)} p50 ${ms(percentile(values, 50))}, p99 ${ms(percentile(values, 99))}`)
  }
  lines.push('  (d) unreachable server, SELECT 1:')
  for (const outage of figures.outages) {
    const when =
      outage.failedAfterMs === undefined
        ? `still waiting after ${(outage.watchedMs / 1000).toFixed(0)} s`
        : `failed after ${outage.failedAfterMs.toFixed(0)} ms`
    lines.push(
      `    ${outage.driver.padEnd(8)} ${outage.case}: ${when}${outage.error ? ` (${outage.error})` : ''}`,
    )
  }
  for (const problem of figures.problems) lines.push(`  CORRECTNESS: ${problem}`)
  return lines
}

function runDenoChild(url: string): Promise<RuntimeFigures> {
  const deno = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url))
  const self = fileURLToPath(import.meta.url)
  return resultOfChild(
    deno,
    ['run', '-A', self, '--child', `--url=${url}`, ...(full ? ['--full'] : [])],
    'Deno',
  )
}

async function main(): Promise<number> {
  if (child) {
    const url = args.find((arg) => arg.startsWith('--url='))!.slice('--url='.length)
    printChildResult(await measureRuntime(url))
    return 0
  }
  const base = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `bench_pg_${Math.random().toString(36).slice(2, 10)}`
  const root = postgres(base, { max: 1, onnotice: () => {} })
  await root.unsafe(`CREATE DATABASE ${name}`)
  const target = new URL(base)
  target.pathname = `/${name}`
  const url = target.toString()
  const started = performance.now()
  try {
    const scratch = new pg.Pool({ connectionString: url, max: 1 })
    await migrate(scratch, MIGRATIONS)
    await scratch.end()
    console.log(
      `PostgreSQL drivers, ${full ? 'full' : 'quick'} mode: postgres (postgres.js) vs pg (node-postgres)`,
    )
    const results = [await measureRuntime(url)]
    for (const line of describe(results[0]!)) console.log(line)
    if (!isDeno) {
      results.push(await runDenoChild(url))
      for (const line of describe(results[1]!)) console.log(line)
    }
    console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`)
    return results.some((r) => r.problems.length > 0) ? 1 : 0
  } finally {
    await root.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await root.end()
  }
}

// Hung sockets of the outage cases must not keep the process alive.
main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error)
    process.exit(1)
  },
)
