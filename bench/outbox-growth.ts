/**
 * Does the outbox get slower as history piles up? Times the storage work of
 * one send (accept, update to `sending`, update to `sent`) on an empty store
 * and on one seeded with 100k finished messages, round by round side by
 * side, and reports seeded/empty throughput (target >= 0.8). Also times
 * opening the store with 100k finished messages (the start with 10k pending
 * messages is `resume.ts`).
 *
 * Run alone: `node_modules/.bin/node bench/outbox-growth.ts [--full]`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHistorySegment } from '../src/adapters/lowdb/history-segment.ts'
import { type OutboxStore, openOutboxRepository } from '../src/adapters/lowdb/outbox-store.ts'
import type { OutboxEntry } from '../src/domain/mail/record.ts'
import { type BenchResult, formatStats, printResults, stats } from './lib.ts'

const DAY_MS = 86_400_000
const NOW = Date.UTC(2026, 5, 1, 12)
const HISTORY_SIZE = 100_000
/** Sends in flight at once, as concurrent API calls and delivery lanes make them. */
const CONCURRENCY = 8

const clock = { now: () => NOW }
const raw = new TextEncoder().encode(
  `From: ann@example.com\r\nTo: bob@example.com\r\nSubject: Hello\r\n\r\n${'A line of body text.\r\n'.repeat(100)}`,
)

function entry(id: string, createdAt: number, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id,
    account: `sender${createdAt % 3}@example.com`,
    from: 'Ann Example <ann@example.com>',
    to: ['bob@example.com', 'carol@example.com'],
    cc: [],
    bcc: [],
    subject: `Your order ${id} has shipped`,
    status: 'queued',
    createdAt,
    attempts: 0,
    attemptLog: [],
    size: raw.length,
    messageId: `<${id}@mail.example.com>`,
    idempotencyKey: `key-${id}`,
    inputHash: 'f'.repeat(64),
    updatedAt: createdAt,
    ...overrides,
  }
}

function sentVersion(base: OutboxEntry, at: number): OutboxEntry {
  return {
    ...base,
    status: 'sent',
    attempts: 1,
    attemptLog: [{ at, outcome: 'sent' }],
    sentAt: at,
    gmailMessageId: `g${base.id}`,
    gmailThreadId: `t${base.id}`,
    updatedAt: at,
  }
}

/** 100k sent messages over the last 25 days, written straight into history segments. */
async function seedHistory(dataDir: string, count: number): Promise<void> {
  const start = NOW - 25 * DAY_MS
  const step = Math.floor((25 * DAY_MS) / count)
  const entries = Array.from({ length: count }, (_, index) => {
    const createdAt = start + index * step
    return sentVersion(entry(`h${index}`, createdAt), createdAt + 2000)
  })
  await writeHistorySegment({ dataDir, entries })
}

/** Runs `count` sends through the store, `CONCURRENCY` at a time; returns sends per second. */
async function sendRate(outbox: OutboxStore, prefix: string, count: number): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++
      const accepted = entry(`${prefix}-${index}`, NOW + index)
      await outbox.accept([{ entry: accepted, raw }])
      await outbox.update({ ...accepted, status: 'sending', updatedAt: accepted.updatedAt + 1 })
      await outbox.update(sentVersion(accepted, accepted.updatedAt + 2))
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return (count * 1000) / (performance.now() - started)
}

async function timeOpen(dataDir: string): Promise<{ ms: number; outbox: OutboxStore }> {
  const started = performance.now()
  const outbox = await openOutboxRepository({ dataDir, clock })
  return { ms: performance.now() - started, outbox }
}

/**
 * One round: many short slices, alternating which store goes first, so that
 * load from other processes and drift of the disk fall on both alike.
 * Returns each store's sends per second over the round.
 */
async function round(
  stores: { empty: OutboxStore; seeded: OutboxStore },
  label: string,
  slices: number,
  sendsPerSlice: number,
): Promise<{ empty: number; seeded: number }> {
  const elapsed = { empty: 0, seeded: 0 }
  for (let slice = 0; slice < slices; slice += 1) {
    const order = slice % 2 === 0 ? (['empty', 'seeded'] as const) : (['seeded', 'empty'] as const)
    for (const which of order) {
      const rate = await sendRate(stores[which], `${label}-${slice}`, sendsPerSlice)
      elapsed[which] += sendsPerSlice / rate
    }
  }
  const sends = slices * sendsPerSlice
  return { empty: sends / elapsed.empty, seeded: sends / elapsed.seeded }
}

/** Measures and returns the result; prints nothing. */
export async function benchOutboxGrowth(options: { quick: boolean }): Promise<BenchResult> {
  const rounds = options.quick ? 3 : 5
  const slices = 10
  const sendsPerSlice = options.quick ? 40 : 80
  const root = await mkdtemp(join(tmpdir(), 'outbox-growth-'))
  try {
    const emptyDir = join(root, 'empty')
    const seededDir = join(root, 'seeded')
    await seedHistory(seededDir, HISTORY_SIZE)

    const seededOpen = await timeOpen(seededDir)
    const stores = {
      empty: await openOutboxRepository({ dataDir: emptyDir, clock }),
      seeded: seededOpen.outbox,
    }
    // Warm up both (JIT, file caches) before timing.
    await sendRate(stores.empty, 'warm', 48)
    await sendRate(stores.seeded, 'warm', 48)

    const emptyRates: number[] = []
    const seededRates: number[] = []
    const ratios: number[] = []
    for (let index = 0; index < rounds; index += 1) {
      const rates = await round(stores, `r${index}`, slices, sendsPerSlice)
      emptyRates.push(rates.empty)
      seededRates.push(rates.seeded)
      ratios.push(rates.seeded / rates.empty)
    }

    const expectedSent = 48 + rounds * slices * sendsPerSlice
    const emptyCounts = await stores.empty.countByStatus()
    const seededCounts = await stores.seeded.countByStatus()
    await Promise.all([stores.empty.close(), stores.seeded.close()])
    const reopened = await openOutboxRepository({ dataDir: seededDir, clock })
    const lastId = `r${rounds - 1}-${slices - 1}-${sendsPerSlice - 1}`
    const correct =
      emptyCounts.sent === expectedSent &&
      seededCounts.sent === HISTORY_SIZE + expectedSent &&
      (await reopened.pending()).length === 0 &&
      (await reopened.get(lastId))?.status === 'sent' &&
      (await reopened.get('h0'))?.status === 'sent'
    await reopened.close()

    const { min, median, max } = stats(ratios)
    return {
      name: 'outbox: send storage cost with 100k history vs empty (throughput ratio)',
      ratio: median,
      target: '>= 0.8',
      met: median >= 0.8,
      correct,
      lines: [
        `ratio per round: min ${min.toFixed(2)} / median ${median.toFixed(2)} / max ${max.toFixed(2)} (${rounds} rounds of ${slices * sendsPerSlice} sends each, ${CONCURRENCY} concurrent)`,
        `empty store:  ${formatStats(emptyRates, 'sends/s')}`,
        `100k history: ${formatStats(seededRates, 'sends/s')}`,
        `open with ${HISTORY_SIZE.toLocaleString('en-US')} finished: ${seededOpen.ms.toFixed(0)} ms`,
      ],
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const result = await benchOutboxGrowth({ quick: !process.argv.includes('--full') })
  printResults([result])
}
