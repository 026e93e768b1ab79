/**
 * Several replicas on PostgreSQL, side by side with lowdb, in one run:
 * service processes (`node src/main/node.ts`) against one standalone
 * emulator process, each PostgreSQL stage on a scratch database created on
 * TEST_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres)
 * and dropped after.
 *
 * 1. Acceptance: `mail.send` over tRPC HTTP at concurrency 32, one
 *    PostgreSQL replica / one lowdb process (throughput ratio, target
 *    >= 0.8); `fleet-acceptance.ts`.
 * 2. Delivery under a per-user quota that the emulator enforces, equal to
 *    GMAIL_SENDS_PER_MINUTE: 1 and 3 replicas on one database, steady sends
 *    a minute after the burst / GMAIL_SENDS_PER_MINUTE, and the 429s
 *    (target: 3 replicas >= 0.95 with none); `fleet-delivery.ts`.
 * 3. Time from acceptance to the first attempt reaching Gmail, p50/p99,
 *    three replicas vs lowdb, for a stream of 20 `mail.send` a second.
 * 4. Database round trips per delivered message: every node-postgres query
 *    the replicas make (`fleet-round-trips.ts`, preloaded), with the server's
 *    transactions (`pg_stat_database`) and written rows (`pg_stat_user_tables`).
 *
 * Correctness checks (a failure exits non-zero): every accepted message
 * reached Gmail exactly once, no call failed, no 429, no failed mail, and
 * no run faster than the quota. Timings never fail the run.
 *
 * Run alone: `node_modules/.bin/node bench/fleet.ts [--full]`.
 */
import { startEmulatorProcess } from '../test/support/emulator-process.ts'
import { type AcceptanceFigures, measureAcceptance } from './fleet-acceptance.ts'
import {
  type DeliveryFigures,
  measurePacedDelivery,
  type PacedRun,
  SENDS_PER_MINUTE,
} from './fleet-delivery.ts'
import { type RoundTrips, totalOf, watchMailbox } from './fleet-support.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import { percentile } from './support.ts'

const ACCEPT_TARGET = 0.8
const SHARE_TARGET = 0.95

export async function benchFleet(options: { quick: boolean }): Promise<BenchResult[]> {
  const emulator = await startEmulatorProcess()
  const watch = watchMailbox(emulator)
  try {
    const acceptance = await measureAcceptance(emulator, watch, options.quick)
    const delivery = await measurePacedDelivery(emulator, watch, options.quick)
    return [
      acceptanceResult(acceptance),
      shareResult(delivery.three, delivery),
      shareResult(delivery.one, delivery),
      dispatchResult(acceptance),
      roundTripResult(acceptance, delivery),
    ]
  } finally {
    watch.stop()
    await emulator.close()
  }
}

const ms = (value: number) => `${value.toFixed(1)} ms`

function acceptanceResult(figures: AcceptanceFigures): BenchResult {
  const { postgres, lowdb } = figures.throughput
  const perRound = postgres.map((value, index) => value / lowdb[index]!)
  const ratio = stats(perRound).median
  const latency = (values: number[]) => `p50 ${ms(percentile(values, 50))}, p99 ${ms(percentile(values, 99))}`
  return {
    name: 'fleet acceptance, concurrency 32: mail.send on PostgreSQL (1 replica) / lowdb (throughput ratio)',
    ratio,
    target: `>= ${ACCEPT_TARGET}`,
    met: ratio >= ACCEPT_TARGET,
    correct: figures.problems.length === 0,
    lines: [
      `PostgreSQL: ${formatStats(postgres, 'sends/s')}; ${latency(figures.callLatencies.postgres)}`,
      `lowdb:      ${formatStats(lowdb, 'sends/s')}; ${latency(figures.callLatencies.lowdb)}`,
      `ratio per round: ${formatStats(perRound, '', 2)} (delivery of each round's backlog checked before the next)`,
      ...figures.problems.map((problem) => `CORRECTNESS: ${problem}`),
    ],
  }
}

function shareResult(run: PacedRun, figures: DeliveryFigures): BenchResult {
  const noun = run.replicas === 1 ? 'replica' : 'replicas'
  return {
    name: `fleet delivery, ${run.replicas} ${noun} on one database: steady sends a minute / GMAIL_SENDS_PER_MINUTE (${SENDS_PER_MINUTE}), 429s`,
    ratio: run.share,
    target: `>= ${SHARE_TARGET}, no 429`,
    met: run.share >= SHARE_TARGET && run.rateLimited === 0,
    correct: run.problems.length === 0,
    lines: [
      `${run.perMinute.toFixed(0)} sends a minute after the burst of ${figures.rate.burst}, ` +
        `${(run.share / figures.ceiling).toFixed(3)} of what the pacing aims at; ${run.rateLimited} answered 429`,
      `${run.delivered} of ${run.backlog} delivered, accepted in ${run.acceptMs.toFixed(0)} ms` +
        (run.lateMs > 0 ? ` (${run.lateMs.toFixed(0)} ms after they fell due)` : ' before they fell due'),
      `the pacing's own ceiling: ${figures.ceiling.toFixed(3)} (one interval per ${figures.rate.intervalMs.toFixed(3)} ms, ` +
        'so that any 61 s, burst included, holds at most the quota)',
      ...run.problems.map((problem) => `CORRECTNESS: ${problem}`),
    ],
  }
}

function dispatchResult(figures: AcceptanceFigures): BenchResult {
  const { postgres, lowdb } = figures.dispatch
  const ratio = percentile(postgres, 99) / percentile(lowdb, 99)
  return {
    name: 'fleet: acceptance to first attempt at Gmail, p99, PostgreSQL (3 replicas) / lowdb',
    ratio,
    target: 'none (reported)',
    met: true,
    correct: figures.problems.length === 0,
    lines: [
      `PostgreSQL, 3 replicas: p50 ${ms(percentile(postgres, 50))}, p99 ${ms(percentile(postgres, 99))} (${postgres.length} messages)`,
      `lowdb:                  p50 ${ms(percentile(lowdb, 50))}, p99 ${ms(percentile(lowdb, 99))} (${lowdb.length} messages)`,
      'a stream of 20 mail.send a second (round-robin over the replicas); createdAt to the emulator receiving the send',
    ],
  }
}

/** `SELECT 3.0, BEGIN 1.0, …` per message, largest first. */
function perMessage(trips: RoundTrips, messages: number): string {
  return Object.entries(trips)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind} ${(n / messages).toFixed(2)}`)
    .join(', ')
}

function roundTripResult(acceptance: AcceptanceFigures, delivery: DeliveryFigures): BenchResult {
  const { stream, idle, server } = acceptance
  const total = totalOf(stream.trips)
  const idlePerSecond = totalOf(idle.trips) / idle.seconds
  const net = (total - idlePerSecond * stream.seconds) / stream.messages
  const paced = delivery.three
  const pacedDeliver = totalOf(paced.trips.deliver)
  const perRow = (counts: DeliveryFigures['server']) =>
    `${(counts.transactions / counts.messages).toFixed(1)} transactions and ` +
    `${((counts.inserted + counts.updated + counts.deleted) / counts.messages).toFixed(1)} rows written ` +
    `(${(counts.inserted / counts.messages).toFixed(1)} inserted, ${(counts.updated / counts.messages).toFixed(1)} updated, ` +
    `${(counts.deleted / counts.messages).toFixed(1)} deleted)`
  return {
    name: 'fleet: database round trips per delivered message (mail.send, accepted and sent, 3 replicas)',
    ratio: total / stream.messages,
    target: 'none (reported)',
    met: true,
    correct: acceptance.problems.length === 0 && paced.problems.length === 0,
    lines: [
      `${(total / stream.messages).toFixed(1)} per message over the stream (${stream.messages} messages in ${stream.seconds.toFixed(1)} s), ` +
        `${net.toFixed(1)} without the idle polling: ${perMessage(stream.trips, stream.messages)}`,
      `1 replica, concurrency 32 (claims of up to 8): ${(totalOf(acceptance.closed.trips) / acceptance.closed.messages).toFixed(1)} per message: ` +
        perMessage(acceptance.closed.trips, acceptance.closed.messages),
      `idle, 3 replicas: ${idlePerSecond.toFixed(1)} round trips a second (polls, lease renewals): ${perMessage(idle.trips, idle.seconds)} a second`,
      `paced, 3 replicas: accepting (sendBatch of 100) ${(totalOf(paced.trips.accept) / paced.backlog).toFixed(2)} per message; ` +
        `delivering ${(pacedDeliver / paced.backlog).toFixed(1)} per message over ${paced.trips.deliverSeconds.toFixed(0)} s: ` +
        perMessage(paced.trips.deliver, paced.backlog),
      `server, over the acceptance database's life (start, migrations, polls included), per message: ${perRow(server)}`,
      `server, over the paced database's life, per message: ${perRow(delivery.server)}`,
      'a round trip: one node-postgres query (one statement sent, one answer awaited)',
    ],
  }
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  const results = await benchFleet({ quick: !process.argv.includes('--full') })
  printResults(results)
  process.exit(results.every((result) => result.correct) ? 0 : 1)
}
