/**
 * Start and resume with 10k pending messages: the time from nothing to a
 * serving service (listen + `composeService`, which loads every live
 * message and hands it to delivery) on a DATA_DIR holding 10,000 queued
 * messages of a connected account, against the same start on a DATA_DIR
 * with the account and no mail, round by round. Reported, no target. The
 * correctness check: the backlog is still there after the starts (a paced
 * service sends only a few of it per start), and where the service logs how
 * many it resumed, that it resumed it all.
 *
 * Run alone: `node_modules/.bin/node bench/resume.ts [--full]`.
 */
import { cp, rm } from 'node:fs/promises'
import { openOutboxRepository } from '../src/adapters/lowdb/outbox-store.ts'
import type { OutboxEntry } from '../src/domain/mail/record.ts'
import { startService } from '../test/support/service.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import { realModeEnv, startConnectedService, startEmulator } from './support.ts'

const PENDING = 10_000
const ACCOUNT = 'resume@example.com'
/** Default pacing: the resumed backlog waits in the queue instead of flooding the emulator. */
const ENV = { GMAIL_SENDS_PER_MINUTE: '60', SEND_WAIT_MS: '0' }

export async function benchResume(options: { quick: boolean }): Promise<BenchResult> {
  const rounds = options.quick ? 3 : 5
  const emulator = await startEmulator()
  const template = await startConnectedService(emulator, ACCOUNT, ENV)
  const emptyDir = template.dataDir
  await template.stop({ keepData: true })
  const pendingDir = `${emptyDir}-pending`
  try {
    await cp(emptyDir, pendingDir, { recursive: true })
    const seedStarted = performance.now()
    await seedPending(pendingDir)
    const seedMs = performance.now() - seedStarted
    const times = { empty: [] as number[], pending: [] as number[] }
    const resumed: number[] = []
    let correct = true
    // Untimed first start of each: the disk cache warms for both.
    for (const dir of [emptyDir, pendingDir]) await timeStart(emulator, dir)
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['empty', 'pending'] as const) : (['pending', 'empty'] as const)
      for (const side of order) {
        const outcome = await timeStart(emulator, side === 'empty' ? emptyDir : pendingDir)
        times[side].push(outcome.ms)
        if (side === 'pending' && outcome.resumed !== undefined) {
          resumed.push(outcome.resumed)
          // The paced service may send a few per start: the rest must all come back.
          if (outcome.resumed < PENDING - 100) correct = false
        }
      }
    }
    const left = await pendingIn(pendingDir)
    if (left < PENDING - 100) correct = false
    const ratios = times.pending.map((ms, index) => ms / times.empty[index]!)
    const ratio = stats(ratios).median
    return {
      name: `resume: start with ${PENDING.toLocaleString('en-US')} pending messages / start with none (time ratio)`,
      ratio,
      target: 'none (reported)',
      met: true,
      correct,
      lines: [
        `with ${PENDING.toLocaleString('en-US')} pending: ${formatStats(times.pending, 'ms')}`,
        `with none:          ${formatStats(times.empty, 'ms')}`,
        `ratio per round: ${formatStats(ratios, '', 2)}; resumed per start (from the log): ${resumed.join(', ') || 'not logged'}; still pending at the end: ${left}`,
        `(seeding ${PENDING.toLocaleString('en-US')} messages through the outbox took ${seedMs.toFixed(0)} ms)`,
      ],
    }
  } finally {
    await emulator.close()
    await rm(emptyDir, { recursive: true, force: true })
    await rm(pendingDir, { recursive: true, force: true })
  }
}

/** Listen + compose on `dataDir`; the time, and how many messages the service said it resumed. */
async function timeStart(emulator: Awaited<ReturnType<typeof startEmulator>>, dataDir: string) {
  const started = performance.now()
  const running = await startService(realModeEnv(emulator, ENV), { dataDir })
  const ms = performance.now() - started
  let resumed: number | undefined
  for (const line of running.logs) {
    const record = JSON.parse(line) as { msg?: string; count?: number }
    if (record.msg === 'Resumed pending mail' && typeof record.count === 'number') resumed = record.count
  }
  await running.stop({ keepData: true })
  return { ms, resumed }
}

async function pendingIn(dataDir: string): Promise<number> {
  const outbox = await openOutboxRepository({ dataDir, clock: { now: () => Date.now() } })
  const count = (await outbox.pending()).length
  await outbox.close()
  return count
}

async function seedPending(dataDir: string): Promise<void> {
  const outbox = await openOutboxRepository({ dataDir, clock: { now: () => Date.now() } })
  const raw = new TextEncoder().encode(
    `From: ${ACCOUNT}\r\nTo: bob@example.com\r\nSubject: Hello\r\n\r\n${'A line of body text.\r\n'.repeat(100)}`,
  )
  const now = Date.now()
  const batch = 1000
  for (let start = 0; start < PENDING; start += batch) {
    const messages = Array.from({ length: Math.min(batch, PENDING - start) }, (_, offset) => {
      const index = start + offset
      const entry: OutboxEntry = {
        id: `pending-${index}`,
        account: ACCOUNT,
        from: ACCOUNT,
        to: ['bob@example.com'],
        cc: [],
        bcc: [],
        subject: `Hello ${index}`,
        status: 'queued',
        createdAt: now - PENDING + index,
        attempts: 0,
        attemptLog: [],
        size: raw.length,
        messageId: `<pending-${index}@example.com>`,
        updatedAt: now - PENDING + index,
      }
      return { entry, raw }
    })
    await outbox.accept(messages)
  }
  await outbox.close()
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  printResults([await benchResume({ quick: !process.argv.includes('--full') })])
}
