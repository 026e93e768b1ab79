/**
 * Soak: does the service's memory level off under a steady load? The
 * service runs as a child process (sandbox mode by default: the emulator
 * and its mailbox are inside it, as in a try-out), one account connected,
 * 10 % of Gmail sends failing with 500/503 (retried). `--rate` mail.send
 * calls a second go through the typed client, open loop (one every
 * 1/rate s whatever the answers), for `--minutes`. RSS (/proc) and the
 * retained heap (V8 heap plus ArrayBuffers and other memory outside it,
 * after a full GC, read by `soak-probe.ts` once the calls in flight are
 * answered: the load pauses a second or two for it) are printed at the
 * start, at minute 1, at half time and at the end (1, 5 and 10 by default).
 *
 * Checks (exit 1 when one fails):
 * - the service keeps up: at most 10 s worth of calls wait for an answer at
 *   a checkpoint (a backlog of requests would be measured instead);
 * - every accepted message ends `sent` (the faulted attempts retried);
 * - memory levels off. A service that keeps nothing per message grows while
 *   its heap and caches warm up, then stays flat; one that keeps something
 *   grows in proportion to the messages. So the second half of the run may
 *   add at most a quarter of what the first half added to RSS, or 16 MiB
 *   when that is more (RSS moves by several MiB with the allocator and the
 *   collector's timing); and the retained heap may grow by at most 1 KiB per
 *   message accepted in the second half (the index entry of a finished
 *   message, which `mail.get`/`mail.list` need, is a few hundred bytes and
 *   is bounded by RETENTION_DAYS; a copy of each body would be about 10 KiB).
 *
 *   npm run bench:soak                                  10 minutes, 20/s, sandbox
 *   npm run bench:soak -- --minutes 2 --rate 20         a shorter run
 *   npm run bench:soak -- --mode real                   the emulator outside the service
 *   npm run bench:soak -- --snapshots /tmp/snaps        heap snapshots at each checkpoint
 */
import { mkdir } from 'node:fs/promises'
import { createMailClient } from '../src/client.ts'
import { memoryOf } from './child.ts'
import { SOAK_API_KEY, type SoakService, startSoakService } from './soak-child.ts'
import { typicalMessage } from './support.ts'

const ACCOUNT = 'soak@example.com'
const MiB = 1024 * 1024
const RSS_SLACK = 16 * MiB
const RSS_SECOND_HALF_SHARE = 0.25
const RETAINED_PER_MESSAGE = 1024
/** Calls waiting for an answer at a checkpoint, in seconds of load, beyond which the service fell behind. */
const OPEN_SECONDS = 10
/** After the load, how long the retries may take to deliver the rest. */
const DRAIN_MS = 120_000

interface Options {
  minutes: number
  rate: number
  faults: number
  mode: 'sandbox' | 'real'
  snapshots?: string
}

interface Checkpoint {
  label: string
  rss: number
  retained: number
  heapUsed: number
  outside: number
  accepted: number
  open: number
}

const options = parseOptions(process.argv.slice(2))
console.log(
  `Soak: ${options.rate} mail.send a second for ${options.minutes} min, ${options.faults * 100} % of Gmail sends ` +
    `failing (500/503, retried), ${options.mode} mode`,
)
if (options.snapshots !== undefined) await mkdir(options.snapshots, { recursive: true })
const service = await startSoakService({
  mode: options.mode,
  account: ACCOUNT,
  faultRate: options.faults,
  ...(options.snapshots === undefined ? {} : { snapshotDir: options.snapshots }),
})
let exitCode = 1
try {
  exitCode = await soak(service)
} catch (error) {
  console.error(`The soak could not run: ${error instanceof Error ? error.message : String(error)}`)
  console.error(service.tail())
} finally {
  await service.stop()
}
process.exit(exitCode)

async function soak(service: SoakService): Promise<number> {
  const client = createMailClient({ url: `${service.url}/trpc`, apiKey: SOAK_API_KEY })
  const unsent = new Set<string>()
  let accepted = 0
  let refused = 0
  let firstRefusal: string | undefined
  const inFlight = new Set<Promise<void>>()
  const send = (index: number) => {
    const call = client.mail.send
      .mutate({ ...typicalMessage(ACCOUNT, index), idempotencyKey: `soak-${index}` })
      .then(
        (record) => {
          accepted++
          if (record.status !== 'sent') unsent.add(record.id)
        },
        (error: unknown) => {
          refused++
          firstRefusal ??= error instanceof Error ? error.message : String(error)
        },
      )
      .finally(() => inFlight.delete(call))
    inFlight.add(call)
  }

  // A few messages first, so that "start" is a service that has sent mail, not a cold one.
  for (let index = 0; index < 20; index++) send(-1 - index)
  await Promise.all(inFlight)
  const checkpoints: Checkpoint[] = []
  let paused = 0
  /**
   * RSS and the open calls under load; then the load pauses until no call is
   * open and a second more, so that the retained heap counts what the
   * service keeps, not the requests it is working on (several MiB at any
   * moment). The pause does not count as load time.
   */
  const measure = async (label: string) => {
    const { rss } = await memoryOf(service.pid)
    const open = inFlight.size
    const pauseStarted = performance.now()
    while (inFlight.size > 0 && performance.now() - pauseStarted < 15_000) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const { heapUsed, external } = await service.retained()
    paused += performance.now() - pauseStarted
    const point = { label, rss, heapUsed, outside: external, retained: heapUsed + external, accepted, open }
    checkpoints.push(point)
    console.log(
      `${label.padEnd(10)} RSS ${mib(rss).padStart(6)} MiB, retained ${mib(point.retained).padStart(6)} MiB ` +
        `(V8 heap ${mib(heapUsed)}, outside ${mib(external)}), ${accepted} accepted, ${open} calls open`,
    )
    if (options.snapshots !== undefined) service.snapshot()
  }
  await measure('start')

  const marks = [...new Set([1, options.minutes / 2, options.minutes])]
    .filter((minute) => minute > 0 && minute <= options.minutes)
    .sort((a, b) => a - b)
  const intervalMs = 1000 / options.rate
  const started = performance.now()
  let index = 0
  for (const minute of marks) {
    const until = () => started + paused + minute * 60_000
    for (;;) {
      const due = started + paused + index * intervalMs
      if (due >= until()) break
      const wait = due - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      send(index++)
    }
    const waitMark = until() - performance.now()
    if (waitMark > 0) await new Promise((resolve) => setTimeout(resolve, waitMark))
    await measure(`minute ${Number(minute.toFixed(2))}`)
  }
  await Promise.all(inFlight)
  const drained = await drain(client, unsent)

  console.log('')
  const first = checkpoints[0]!
  const middle = checkpoints.at(-2)!
  const last = checkpoints.at(-1)!
  const firstHalf = middle.rss - first.rss
  const secondHalf = last.rss - middle.rss
  const rssAllowed = Math.max(RSS_SLACK, RSS_SECOND_HALF_SHARE * firstHalf)
  const secondHalfMessages = Math.max(1, last.accepted - middle.accepted)
  const perMessage = (last.retained - middle.retained) / secondHalfMessages
  const perMessageFirst = (middle.retained - first.retained) / Math.max(1, middle.accepted - first.accepted)
  const mostOpen = Math.max(...checkpoints.map((point) => point.open))
  const checks = [
    {
      ok: mostOpen <= options.rate * OPEN_SECONDS,
      line:
        `the service kept up: at most ${mostOpen} calls open at a checkpoint (allowed ${options.rate * OPEN_SECONDS}: ` +
        `${OPEN_SECONDS} s of load; more, and memory holds a backlog of requests, not what the service keeps)`,
    },
    {
      ok: refused === 0 && accepted === index + 20,
      line: `accepted ${accepted} of ${index + 20} calls${refused > 0 ? ` (${refused} refused: ${firstRefusal})` : ''}`,
    },
    {
      ok: drained.unsent === 0 && drained.notSent.length === 0,
      line:
        `every accepted message sent: ${accepted - drained.unsent - drained.notSent.length} of ${accepted}` +
        (drained.notSent.length > 0 ? ` (${drained.notSent.slice(0, 3).join('; ')})` : '') +
        (drained.unsent > 0
          ? ` (${drained.unsent} still unfinished ${DRAIN_MS / 1000} s after the load)`
          : ''),
    },
    {
      ok: secondHalf <= rssAllowed,
      line:
        `RSS levels off: ${signed(secondHalf)} MiB from ${middle.label} to ${last.label}, ` +
        `${signed(firstHalf)} MiB from start to ${middle.label} (allowed: ${mib(rssAllowed)} MiB)`,
    },
    {
      ok: perMessage <= RETAINED_PER_MESSAGE,
      line:
        `retained heap per message: ${perMessage.toFixed(0)} bytes from ${middle.label} to ${last.label} ` +
        `(${perMessageFirst.toFixed(0)} before; allowed ${RETAINED_PER_MESSAGE})`,
    },
  ]
  for (const check of checks) console.log(`${check.ok ? 'ok    ' : 'FAILED'} ${check.line}`)
  const failed = checks.filter((check) => !check.ok).length
  console.log(failed === 0 ? 'Soak passed' : `Soak failed: ${failed} check(s)`)
  return failed === 0 ? 0 : 1
}

/** Polls the messages not answered `sent` until each is finished; what is not `sent`, and how many never finished. */
async function drain(
  client: ReturnType<typeof createMailClient>,
  unsent: Set<string>,
): Promise<{ unsent: number; notSent: string[] }> {
  const notSent: string[] = []
  const deadline = performance.now() + DRAIN_MS
  while (unsent.size > 0 && performance.now() < deadline) {
    const ids = [...unsent]
    for (let at = 0; at < ids.length; at += 50) {
      const records = await Promise.all(ids.slice(at, at + 50).map((id) => client.mail.get.query({ id })))
      for (const record of records) {
        if (record.status === 'sent') unsent.delete(record.id)
        else if (record.status === 'failed' || record.status === 'canceled') {
          unsent.delete(record.id)
          notSent.push(`${record.id} ${record.status}: ${record.error?.message ?? ''}`)
        }
      }
    }
    if (unsent.size > 0) await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  return { unsent: unsent.size, notSent }
}

function parseOptions(args: string[]): Options {
  const value = (name: string): string | undefined => {
    const at = args.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))
    if (at < 0) return undefined
    const arg = args[at]!
    return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[at + 1]
  }
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const text = value(name)
    if (text === undefined) return fallback
    const parsed = Number(text)
    if (!(Number.isFinite(parsed) && parsed >= min && parsed <= max)) {
      console.error(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`)
      process.exit(2)
    }
    return parsed
  }
  const mode = value('mode') ?? 'sandbox'
  if (mode !== 'sandbox' && mode !== 'real') {
    console.error(`--mode must be sandbox or real, got ${JSON.stringify(mode)}`)
    process.exit(2)
  }
  const snapshots = value('snapshots')
  return {
    minutes: number('minutes', 10, 0.1, 24 * 60),
    rate: number('rate', 20, 0.1, 1000),
    faults: number('faults', 0.1, 0, 1),
    mode,
    ...(snapshots === undefined ? {} : { snapshots }),
  }
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1)
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? '+' : ''}${mib(bytes)}`
}
