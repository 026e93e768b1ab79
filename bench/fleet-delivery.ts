/**
 * The fleet benchmark's second stage (see `fleet.ts`): delivery under
 * Gmail's per-user quota. The emulator refuses with 429 a send past
 * GMAIL_SENDS_PER_MINUTE in any 60 s (a sliding window, as Gmail counts),
 * and the service processes run with that same GMAIL_SENDS_PER_MINUTE on
 * one PostgreSQL database: first one replica, then three (the first and
 * two more), each run with an account of its own and a backlog of
 * messages all due at one moment, accepted round-robin through the
 * replicas beforehand (`mail.sendBatch`, 100 a call, `sendAt` a few seconds
 * ahead).
 *
 * The pacing lets a burst through at the due time and then spaces the
 * sends; the share is the steady rate after the burst (from 2 s after the
 * first send to the last one) in sends a minute, over GMAIL_SENDS_PER_MINUTE.
 * Also counted: the emulator's 429s, and the replicas' database round trips
 * while accepting the backlog and while delivering it.
 */
import { type GcraRate, gcraRate } from '../src/domain/delivery/gcra.ts'
import type { MailInput } from '../src/domain/mail/input.ts'
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

export const SENDS_PER_MINUTE = 1200
/** The steady rate is measured from this long after the first send of a run. */
const STEADY_AFTER_MS = 2_000
/** Daily budget as Workspace has it (the backlogs stay under it). */
const SENDS_PER_DAY = 2000

export interface PacedRun {
  replicas: number
  backlog: number
  delivered: number
  /** Sends a minute in steady state, and over GMAIL_SENDS_PER_MINUTE. */
  perMinute: number
  share: number
  rateLimited: number
  acceptMs: number
  /** The backlog was accepted this long after it fell due (0: in time). */
  lateMs: number
  trips: { accept: RoundTrips; deliver: RoundTrips; deliverSeconds: number }
  problems: string[]
}

export interface DeliveryFigures {
  one: PacedRun
  three: PacedRun
  /** The steady share the pacing itself aims at (its margin and burst taken off). */
  ceiling: number
  rate: GcraRate
  server: ServerCounts & { messages: number }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function measurePacedDelivery(
  emulator: EmulatorProcess,
  watch: MailboxWatch,
  quick: boolean,
): Promise<DeliveryFigures> {
  const rate = gcraRate({ perMinute: SENDS_PER_MINUTE, perDay: SENDS_PER_DAY })!
  // Quick: about 12 s of steady sending per run. Full: past the minute, where a fleet
  // pacing each replica on its own would meet the emulator's 429s.
  const backlog = quick ? rate.burst + 220 : Math.min(SENDS_PER_DAY - 1, Math.ceil(SENDS_PER_MINUTE * 1.3))
  const leadMs = quick ? 3_000 : 6_000
  const env = { GMAIL_SENDS_PER_MINUTE: String(SENDS_PER_MINUTE), GMAIL_SENDS_PER_DAY: String(SENDS_PER_DAY) }
  const database = await createScratchDatabase('bench_fleet_paced')
  const services: ServiceProcess[] = []
  try {
    await emulator.setQuota(SENDS_PER_MINUTE)
    const start = (n: number) =>
      startServiceProcess({ name: `replica-${n}`, emulator, databaseUrl: database.url, env })
    const first = await start(1)
    services.push(first)
    await connectThrough(first, emulator, 'paced-one@example.com')
    await connectThrough(first, emulator, 'paced-three@example.com')
    const settings = { backlog, leadMs, rate }
    const one = await pacedRun([first], 'paced-one@example.com', 'P1 ', emulator, watch, settings)
    services.push(...(await Promise.all([start(2), start(3)])))
    await sleep(500)
    const three = await pacedRun(services, 'paced-three@example.com', 'P3 ', emulator, watch, settings)
    for (const service of services.splice(0)) await service.stop()
    const server = await database.finalCounts()
    return {
      one,
      three,
      rate,
      ceiling: 60_000 / rate.intervalMs / SENDS_PER_MINUTE,
      server: { ...server, messages: 2 * backlog },
    }
  } finally {
    for (const service of services) await service.stop()
    await emulator.setQuota(null).catch(() => {})
    await database.drop()
  }
}

async function pacedRun(
  replicas: ServiceProcess[],
  account: string,
  prefix: string,
  emulator: EmulatorProcess,
  watch: MailboxWatch,
  settings: { backlog: number; leadMs: number; rate: GcraRate },
): Promise<PacedRun> {
  const { backlog, leadMs, rate } = settings
  const problems: string[] = []
  const counts = () => Promise.all(replicas.map((replica) => replica.roundTrips()))
  const rateLimitedBefore = (await emulator.stats()).rateLimited
  const beforeAccept = await counts()
  const acceptStarted = performance.now()
  const due = Date.now() + leadMs
  const accepted = new Set<string>()
  for (let start = 0, call = 0; start < backlog; start += 100, call++) {
    const messages: MailInput[] = []
    for (let index = start; index < Math.min(backlog, start + 100); index++) {
      messages.push({
        from: account,
        to: 'ann@example.com',
        subject: `${prefix}${index}`,
        text: `Message ${index} of the paced backlog.`,
        sendAt: new Date(due).toISOString(),
      })
    }
    const records = await replicas[call % replicas.length]!.client.mail.sendBatch.mutate({ messages })
    for (const [index, record] of records.entries()) {
      // `queued` (or already `sending`) only when the backlog took longer than the lead: see lateMs.
      if (['scheduled', 'queued', 'sending'].includes(record.status)) accepted.add(messages[index]!.subject)
      else problems.push(`${messages[index]!.subject} was accepted as ${record.status}`)
    }
  }
  const acceptMs = performance.now() - acceptStarted
  const lateMs = Math.max(0, Date.now() - due)
  const afterAccept = await counts()
  const deliverStarted = performance.now()
  const expectedMs = leadMs + (backlog - rate.burst) * rate.intervalMs
  const drained = await watch.until(
    () => copiesBySubject(watch, prefix).size >= accepted.size,
    expectedMs * 1.5 + 30_000,
  )
  await sleep(300)
  await watch.poll()
  const afterDeliver = await counts()
  const deliverSeconds = (performance.now() - deliverStarted) / 1000
  const rateLimited = (await emulator.stats()).rateLimited - rateLimitedBefore
  const arrivals = [...watch.received.values()]
    .filter((message) => message.subject.startsWith(prefix))
    .map((message) => message.receivedAt)
    .sort((a, b) => a - b)
  // Steady state: from STEADY_AFTER_MS past the first send (the burst, and the few sends
  // its bucket refilled while it went out, are over by then) to the last send.
  const steady = arrivals.filter((at) => at >= (arrivals[0] ?? 0) + STEADY_AFTER_MS)
  const first = steady[0]
  const last = steady[steady.length - 1]
  const perMinute =
    first === undefined || last === undefined || last === first
      ? Number.NaN
      : ((steady.length - 1) * 60_000) / (last - first)
  const share = perMinute / SENDS_PER_MINUTE
  const problem = deliveryProblem(watch, prefix, accepted)
  if (problem !== undefined) problems.push(problem)
  if (!drained) problems.push(`${prefix.trim()}: the backlog was not delivered in time`)
  if (rateLimited > 0)
    problems.push(`${prefix.trim()}: Gmail (the emulator) answered 429 ${rateLimited} times`)
  // Faster than the quota: a run of a minute would meet 429s (shorter runs cannot see them).
  if (share > 1) problems.push(`${prefix.trim()}: sent faster than the quota (${share.toFixed(3)} of it)`)
  const stuck = await replicas[0]!.client.mail.list.query({ status: 'failed', limit: 1 })
  if (stuck.items.length > 0) problems.push(`${prefix.trim()}: some mail failed`)
  await watch.clear()
  return {
    replicas: replicas.length,
    backlog,
    delivered: arrivals.length,
    perMinute,
    share,
    rateLimited,
    acceptMs,
    lateMs,
    trips: {
      accept: tripsBetween(beforeAccept, afterAccept),
      deliver: tripsBetween(afterAccept, afterDeliver),
      deliverSeconds,
    },
    problems,
  }
}
