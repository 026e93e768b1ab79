/**
 * The dispatcher's throughput: a backlog of events published at once and
 * delivered by the real dispatcher (claims, the signed POST, the settle, on
 * the lowdb store and on PostgreSQL), against the same signed POSTs sent by
 * a plain loop with the same concurrency and no store at all: the floor for
 * any webhook sender on this machine. Every event must arrive once.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTokenCipher, parseEncryptionKeys } from '../src/adapters/lowdb/token-cipher.ts'
import { openWebhookStore } from '../src/adapters/lowdb/webhook-store.ts'
import { connectPostgres } from '../src/adapters/postgres/connect.ts'
import { migrate } from '../src/adapters/postgres/migrate.ts'
import { postgresWebhookStore } from '../src/adapters/postgres/webhook-store.ts'
import { createHttpWebhookSender } from '../src/adapters/webhooks/http-sender.ts'
import { generateWebhookSecret } from '../src/adapters/webhooks/signature.ts'
import { realScheduler } from '../src/app/scheduler.ts'
import { createWebhookDispatcher } from '../src/app/webhooks/dispatcher.ts'
import type { WebhookEvent } from '../src/domain/webhooks/event.ts'
import type { WebhookStore } from '../src/domain/webhooks/ports.ts'
import { WEBHOOK_RETRY_DEFAULTS } from '../src/domain/webhooks/retry.ts'
import { webhookBody } from '../src/domain/webhooks/sender.ts'
import { createScratchDatabase } from './fleet-support.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import { BENCH_ENCRYPTION_KEY } from './support.ts'
import { samplesVerify, startReceiver } from './webhook-receiver.ts'

const CONCURRENCY = 8
const TARGET = 0.5
const silent = { debug() {}, info() {}, warn() {}, error() {} }

function eventsOf(count: number, round: number): WebhookEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `evt_bench_${round}_${index}`,
    type: 'mail.sent' as const,
    at: Date.now(),
    data: { id: `msg_${round}_${index}`, status: 'sent', to: ['ann@example.com'], subject: `Order ${index}` },
  }))
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (!predicate() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2))
  return predicate()
}

/** Events a second through the dispatcher on `store`, for one backlog of `count`. */
async function dispatched(
  store: WebhookStore,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  count: number,
  round: number,
): Promise<{ perSecond: number; complete: boolean }> {
  const sender = createHttpWebhookSender({ timeoutMs: 10_000 })
  const before = receiver.ids.size
  await store.publish(eventsOf(count, round), Date.now())
  const started = performance.now()
  const dispatcher = createWebhookDispatcher({
    store,
    sender,
    clock: { now: () => Date.now() },
    scheduler: realScheduler,
    random: Math.random,
    logger: silent,
    owner: 'bench',
    policy: WEBHOOK_RETRY_DEFAULTS,
    timeoutMs: 10_000,
    concurrency: CONCURRENCY,
  })
  dispatcher.start()
  const complete = await until(() => receiver.ids.size - before >= count, 60_000)
  const elapsed = performance.now() - started
  await dispatcher.stop(5_000)
  return { perSecond: (count * 1000) / elapsed, complete }
}

/** The same signed POSTs from a plain loop: no store, no claim, no settle. */
async function direct(
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  secret: string,
  count: number,
  round: number,
): Promise<{ perSecond: number; complete: boolean }> {
  const sender = createHttpWebhookSender({ timeoutMs: 10_000 })
  const events = eventsOf(count, round + 1_000)
  const before = receiver.ids.size
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < events.length) {
        const event = events[next++]!
        await sender.send({
          url: receiver.url,
          secret,
          id: event.id,
          timestamp: Math.floor(Date.now() / 1000),
          body: webhookBody(event),
        })
      }
    }),
  )
  const elapsed = performance.now() - started
  return { perSecond: (count * 1000) / elapsed, complete: receiver.ids.size - before === count }
}

async function compareOn(
  label: string,
  store: WebhookStore,
  options: { quick: boolean },
): Promise<BenchResult> {
  const receiver = await startReceiver()
  const rounds = options.quick ? 3 : 5
  const count = options.quick ? 300 : 2_000
  try {
    const secret = generateWebhookSecret()
    await store.createEndpoint({
      id: 'wh_bench',
      url: receiver.url,
      events: [],
      secret,
      createdAt: Date.now(),
    })
    await dispatched(store, receiver, 50, -1) // warm-up
    await direct(receiver, secret, 50, -1)
    const viaDispatcher: number[] = []
    const viaLoop: number[] = []
    let complete = true
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['dispatcher', 'loop'] : ['loop', 'dispatcher']
      for (const side of order) {
        const result =
          side === 'dispatcher'
            ? await dispatched(store, receiver, count, round)
            : await direct(receiver, secret, count, round)
        complete &&= result.complete
        ;(side === 'dispatcher' ? viaDispatcher : viaLoop).push(result.perSecond)
      }
    }
    const ratio = stats(viaDispatcher.map((value, index) => value / viaLoop[index]!)).median
    const verified = samplesVerify(receiver.samples, secret)
    return {
      name: `Webhook delivery on ${label}: dispatcher vs a plain loop of signed POSTs, ${CONCURRENCY} at once, ${count} events`,
      ratio,
      target: `>= ${TARGET}`,
      met: ratio >= TARGET,
      correct: complete && verified,
      lines: [
        `dispatcher: ${formatStats(viaDispatcher, 'events/s')}`,
        `plain loop: ${formatStats(viaLoop, 'events/s')}`,
        `every event arrived: ${complete ? 'yes' : 'NO'}; signatures checked with standardwebhooks: ${verified ? 'yes' : 'NO'}`,
      ],
    }
  } finally {
    await receiver.close()
  }
}

export async function benchDispatcher(options: { quick: boolean }): Promise<BenchResult[]> {
  const cipher = createTokenCipher(parseEncryptionKeys(BENCH_ENCRYPTION_KEY))
  const results: BenchResult[] = []
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-webhooks-'))
  const lowdb = await openWebhookStore({ dataDir, cipher, clock: { now: () => Date.now() } })
  try {
    results.push(await compareOn('lowdb', lowdb, options))
  } finally {
    await lowdb.close()
    await rm(dataDir, { recursive: true, force: true })
  }
  const scratch = await createScratchDatabase('bench_webhooks')
  const pool = await connectPostgres(scratch.url, {})
  try {
    await migrate(pool)
    results.push(await compareOn('PostgreSQL', postgresWebhookStore(pool, cipher), options))
  } finally {
    await pool.end()
    await scratch.drop()
  }
  return results
}
