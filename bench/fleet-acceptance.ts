/**
 * The fleet benchmark's first stage (see `fleet.ts`): acceptance and
 * dispatch, pacing on but never binding (100,000 sends a minute, 10 million
 * a day), the emulator without a quota.
 *
 * (1) `mail.send` closed-loop at concurrency 32 on one PostgreSQL replica
 * and on one lowdb process, rounds alternating the two, each round's
 * backlog delivered and checked before the next; (2) then two more
 * replicas join: an open-loop stream of single `mail.send` calls spread
 * round-robin over the three, and the same stream to the lowdb process;
 * the time from acceptance (`createdAt`) to the first attempt reaching
 * Gmail (the emulator's `receivedAt`, same machine clock), with the three
 * replicas' database round trips over the stream and over an idle stretch
 * just before it.
 */
import type { MailRecord } from '../src/client.ts'
import type { EmulatorProcess } from '../test/support/emulator-process.ts'
import {
  connectThrough,
  copiesBySubject,
  createScratchDatabase,
  deliveryProblem,
  type MailboxWatch,
  type RoundTrips,
  type ServerCounts,
  type ServiceProcess,
  startServiceProcess,
  tripsBetween,
} from './fleet-support.ts'
import { closedLoop, typicalMessage } from './support.ts'

const PG_ACCOUNT = 'fleet-pg@example.com'
const LOWDB_ACCOUNT = 'fleet-lowdb@example.com'
const CONCURRENCY = 32
/** Messages a second of the dispatch stream: well under what either store accepts. */
const STREAM_RATE = 20
/** Long enough for any drain on this machine; reaching it is a failure (nothing sent). */
const DRAIN_TIMEOUT_MS = 120_000
const ENV = { GMAIL_SENDS_PER_MINUTE: '100000', GMAIL_SENDS_PER_DAY: '10000000' }

export interface AcceptanceFigures {
  /** mail.send a second, per round. */
  throughput: { postgres: number[]; lowdb: number[] }
  callLatencies: { postgres: number[]; lowdb: number[] }
  /** Milliseconds from acceptance to the first attempt at Gmail, every message of the streams. */
  dispatch: { postgres: number[]; lowdb: number[] }
  /** Replica 1's round trips over the closed-loop rounds (alone, concurrency 32), until delivered. */
  closed: { trips: RoundTrips; messages: number }
  /** The three replicas' round trips over the PostgreSQL stream, its messages and length. */
  stream: { trips: RoundTrips; messages: number; seconds: number }
  /** The three replicas' round trips while idle (polls, lease renewals), and for how long. */
  idle: { trips: RoundTrips; seconds: number }
  /** The server's counts over the database's life, and the messages it accepted. */
  server: ServerCounts & { messages: number }
  problems: string[]
}

interface Side {
  name: 'postgres' | 'lowdb'
  account: string
  services: ServiceProcess[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function measureAcceptance(
  emulator: EmulatorProcess,
  watch: MailboxWatch,
  quick: boolean,
): Promise<AcceptanceFigures> {
  const settings = quick
    ? { rounds: 3, roundMs: 1_500, warmMs: 500, idleMs: 2_000, streamMs: 6_000 }
    : { rounds: 5, roundMs: 4_000, warmMs: 1_500, idleMs: 6_000, streamMs: 15_000 }
  const figures: AcceptanceFigures = {
    throughput: { postgres: [], lowdb: [] },
    callLatencies: { postgres: [], lowdb: [] },
    dispatch: { postgres: [], lowdb: [] },
    closed: { trips: {}, messages: 0 },
    stream: { trips: {}, messages: 0, seconds: 0 },
    idle: { trips: {}, seconds: 0 },
    server: { transactions: 0, inserted: 0, updated: 0, deleted: 0, messages: 0 },
    problems: [],
  }
  const database = await createScratchDatabase('bench_fleet_accept')
  const services: ServiceProcess[] = []
  let tag = 0
  try {
    const [lowdb, first] = await Promise.all([
      startServiceProcess({ name: 'lowdb', emulator, env: ENV }),
      startServiceProcess({ name: 'replica-1', emulator, databaseUrl: database.url, env: ENV }),
    ])
    services.push(lowdb, first)
    await connectThrough(lowdb, emulator, LOWDB_ACCOUNT)
    await connectThrough(first, emulator, PG_ACCOUNT)
    const postgresSide: Side = { name: 'postgres', account: PG_ACCOUNT, services: [first] }
    const lowdbSide: Side = { name: 'lowdb', account: LOWDB_ACCOUNT, services: [lowdb] }

    /** Checks that every message of the phase reached Gmail once, then empties the mailbox. */
    const settle = async (prefix: string, accepted: Set<string>): Promise<void> => {
      await watch.until(() => copiesBySubject(watch, prefix).size >= accepted.size, DRAIN_TIMEOUT_MS)
      // A little longer: a duplicate would arrive after the last original.
      await sleep(200)
      await watch.poll()
      const problem = deliveryProblem(watch, prefix, accepted)
      if (problem !== undefined) figures.problems.push(problem)
      await watch.clear()
    }

    const closedPhase = async (side: Side, ms: number) => {
      const prefix = `A${tag++} `
      const accepted = new Set<string>()
      const service = side.services[0]!
      const before = side.name === 'postgres' ? [await service.roundTrips()] : []
      const load = await closedLoop({
        concurrency: CONCURRENCY,
        durationMs: ms,
        call: async (index) => {
          const subject = `${prefix}${index}`
          const record = await service.client.mail.send.mutate({
            ...typicalMessage(side.account, index),
            subject,
          })
          accepted.add(subject)
          return record
        },
        check: (record: MailRecord) => record.status === 'queued' || record.status === 'sending',
      })
      if (load.failures > 0) figures.problems.push(`${side.name}: ${load.failures} mail.send calls failed`)
      if (side.name === 'postgres') figures.server.messages += accepted.size
      await settle(prefix, accepted)
      if (side.name === 'postgres') {
        add(figures.closed.trips, tripsBetween(before, [await service.roundTrips()]))
        figures.closed.messages += accepted.size
      }
      return load
    }

    for (const side of [postgresSide, lowdbSide]) await closedPhase(side, settings.warmMs)
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? [postgresSide, lowdbSide] : [lowdbSide, postgresSide]
      for (const side of order) {
        const load = await closedPhase(side, settings.roundMs)
        figures.throughput[side.name].push(load.throughput)
        figures.callLatencies[side.name].push(...load.latencies)
      }
    }

    // Two more replicas on the same database, then the dispatch streams.
    const more = await Promise.all(
      [2, 3].map((n) =>
        startServiceProcess({ name: `replica-${n}`, emulator, databaseUrl: database.url, env: ENV }),
      ),
    )
    services.push(...more)
    postgresSide.services = [first, ...more]
    const replicas = postgresSide.services
    const counts = () => Promise.all(replicas.map((replica) => replica.roundTrips()))
    await sleep(500)
    const idleStart = await counts()
    const idleStarted = performance.now()
    await sleep(settings.idleMs)
    const idleEnd = await counts()
    figures.idle = {
      trips: tripsBetween(idleStart, idleEnd),
      seconds: (performance.now() - idleStarted) / 1000,
    }

    const streamPhase = async (side: Side, ms: number) => {
      const prefix = `S${tag++} `
      const acceptedAt = new Map<string, number>()
      const before = side.name === 'postgres' ? await counts() : []
      const started = performance.now()
      const failures = await openLoop(STREAM_RATE, ms, async (index) => {
        const subject = `${prefix}${index}`
        const service = side.services[index % side.services.length]!
        const record = await service.client.mail.send.mutate({
          ...typicalMessage(side.account, index),
          subject,
        })
        acceptedAt.set(subject, Date.parse(record.createdAt))
      })
      if (failures > 0)
        figures.problems.push(`${side.name}: ${failures} mail.send calls of the stream failed`)
      const accepted = new Set(acceptedAt.keys())
      await watch.until(() => copiesBySubject(watch, prefix).size >= accepted.size, DRAIN_TIMEOUT_MS)
      if (side.name === 'postgres') {
        const after = await counts()
        add(figures.stream.trips, tripsBetween(before, after))
        figures.stream.messages += accepted.size
        figures.stream.seconds += (performance.now() - started) / 1000
        figures.server.messages += accepted.size
      }
      for (const message of watch.received.values()) {
        const at = acceptedAt.get(message.subject)
        if (at !== undefined) figures.dispatch[side.name].push(message.receivedAt - at)
      }
      await settle(prefix, accepted)
    }
    const streams = quick ? [postgresSide, lowdbSide] : [postgresSide, lowdbSide, lowdbSide, postgresSide]
    for (const side of streams) await streamPhase(side, settings.streamMs)

    for (const service of services.splice(0)) await service.stop()
    const server = await database.finalCounts()
    figures.server = { ...server, messages: figures.server.messages }
    return figures
  } finally {
    for (const service of services) await service.stop()
    await database.drop()
  }
}

function add(into: RoundTrips, more: RoundTrips): void {
  for (const [kind, n] of Object.entries(more)) into[kind] = (into[kind] ?? 0) + n
}

/**
 * Calls `send` at `rate` a second for `durationMs`, each call on its
 * schedule whether or not the previous one answered; the failed calls.
 */
async function openLoop(rate: number, durationMs: number, send: (index: number) => Promise<void>) {
  const count = Math.round((rate * durationMs) / 1000)
  const started = performance.now()
  const calls: Array<Promise<boolean>> = []
  for (let index = 0; index < count; index++) {
    const wait = started + (index * 1000) / rate - performance.now()
    if (wait > 0) await sleep(wait)
    calls.push(
      send(index).then(
        () => true,
        () => false,
      ),
    )
  }
  return (await Promise.all(calls)).filter((ok) => !ok).length
}
