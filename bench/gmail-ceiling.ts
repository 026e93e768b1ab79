/**
 * Gmail's ceiling: with the emulated Gmail enforcing a per-user quota of N
 * sends a minute and the service paced at GMAIL_SENDS_PER_MINUTE=N, how much
 * of the allowed rate does delivery sustain? More than N messages wait in
 * the queue (all due at one moment), so a service that did not pace would
 * run into Gmail's 429s: zero 429s is a correctness check. The run is cut
 * into back-to-back windows at gaps between deliveries; a window's rate is
 * its deliveries over the time from its first delivery to the next window's
 * first (whole bursts over whole periods), divided by N/60 per second.
 * Target >= 0.95. Runs shorter than a minute never reach the minute window;
 * the full run does.
 *
 * Run alone: `node_modules/.bin/node bench/gmail-ceiling.ts [--full]`.
 */
import type { MailInput } from '../src/domain/mail/input.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import { startConnectedService, startEmulator, unbatchedClient } from './support.ts'

const TARGET = 0.95
const SENDS_PER_MINUTE = 1200
const ACCOUNT = 'paced@example.com'
/** Time for accepting the backlog before it falls due. */
const LEAD_MS = 2500

export async function benchGmailCeiling(options: { quick: boolean }): Promise<BenchResult> {
  const windows = 3
  const windowMs = options.quick ? 4_000 : 25_000
  const outcome = await run(windows, windowMs)
  const shares = outcome.perSecond.map((rate) => rate / (SENDS_PER_MINUTE / 60))
  const share = stats(shares).median
  const correct = outcome.rateLimited === 0 && outcome.failed === 0 && outcome.delivered > 0
  return {
    name: `Gmail ceiling: sustained delivery rate / quota of ${SENDS_PER_MINUTE} sends a minute`,
    ratio: share,
    target: `>= ${TARGET}`,
    met: share >= TARGET,
    correct,
    lines: [
      `share per ${windowMs / 1000} s window: ${formatStats(shares, '', 3)}`,
      `sustained ${formatStats(outcome.perSecond, '/s', 2)} of ${(SENDS_PER_MINUTE / 60).toFixed(2)}/s allowed`,
      `${outcome.delivered} delivered in ${(windows * windowMs) / 1000} s, ${outcome.rateLimited} answered 429, ` +
        `${outcome.failed} failed (backlog of ${outcome.backlog} accepted in ${outcome.acceptMs.toFixed(0)} ms)`,
    ],
  }
}

/** One paced run of `windows` back-to-back windows; the delivery rate of each. */
async function run(windows: number, windowMs: number) {
  const emulator = await startEmulator()
  const control = emulator.emulator.control
  const running = await startConnectedService(emulator, ACCOUNT, {
    GMAIL_SENDS_PER_MINUTE: String(SENDS_PER_MINUTE),
    GMAIL_SENDS_PER_DAY: '0',
    // Answer at once with `scheduled`: delivery is watched at the emulator.
    SEND_WAIT_MS: '0',
  })
  try {
    control.setQuota({ sendsPerMinute: SENDS_PER_MINUTE })
    const client = unbatchedClient(running)
    const runMs = windows * windowMs
    // Enough for the run and more than a minute's quota, all due at one moment.
    const needed = Math.ceil((SENDS_PER_MINUTE / 60) * (runMs / 1000) * 1.2)
    const backlog = Math.max(needed, Math.ceil(SENDS_PER_MINUTE * 1.2))
    const acceptStarted = performance.now()
    const due = Date.now() + LEAD_MS
    const sendAt = new Date(due).toISOString()
    for (let start = 0; start < backlog; start += 100) {
      const messages: MailInput[] = []
      for (let index = start; index < Math.min(backlog, start + 100); index++) {
        messages.push({ to: 'ann@example.com', subject: `Paced ${index}`, text: `Message ${index}.`, sendAt })
      }
      await client.mail.sendBatch.mutate({ messages })
    }
    const acceptMs = performance.now() - acceptStarted
    // A little past the end, so that the last boundary can fall between two clumps.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due + runMs + SNAP_MS - Date.now())))
    const arrivalTimes = () =>
      control
        .mailbox()
        .filter((message) => message.account === ACCOUNT)
        .map((message) => message.receivedAt)
        .sort((a, b) => a - b)
    let arrivals = arrivalTimes()
    const boundaries = [due]
    for (let k = 1; k <= windows; k++) boundaries.push(snap(arrivals, due + k * windowMs))
    // Each window's span runs to the first delivery of the next one: whole clumps over whole periods.
    const end = boundaries[windows]!
    for (let waited = 0; !arrivals.some((at) => at >= end) && waited < 10_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      arrivals = arrivalTimes()
    }
    const firstFrom = (at: number) => arrivals.find((time) => time >= at) ?? Number.NaN
    const perSecond: number[] = []
    for (let k = 0; k < windows; k++) {
      const count = arrivals.filter((at) => at >= boundaries[k]! && at < boundaries[k + 1]!).length
      perSecond.push((count * 1000) / (firstFrom(boundaries[k + 1]!) - firstFrom(boundaries[k]!)))
    }
    const { rateLimited } = control.stats()
    const failed = (await client.mail.list.query({ status: 'failed', limit: 100 })).items.length
    const delivered = arrivals.filter((at) => at < boundaries[windows]!).length
    return { perSecond, delivered, rateLimited, failed, backlog, acceptMs }
  } finally {
    await running.stop()
    await emulator.close()
  }
}

/** How far a window boundary may move to fall into a gap between deliveries. */
const SNAP_MS = 1500

/** The middle of the widest gap between arrivals within SNAP_MS of `at`. */
function snap(arrivals: number[], at: number): number {
  const near = arrivals.filter((time) => time >= at - SNAP_MS && time <= at + SNAP_MS)
  let best = at
  let widest = -1
  for (let i = 1; i < near.length; i++) {
    const gap = near[i]! - near[i - 1]!
    if (gap > widest) {
      widest = gap
      best = (near[i]! + near[i - 1]!) / 2
    }
  }
  return best
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  printResults([await benchGmailCeiling({ quick: !process.argv.includes('--full') })])
}
