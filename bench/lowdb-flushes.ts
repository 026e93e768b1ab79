/**
 * How many flushes to disk (fsync, fdatasync, O_DSYNC writes) the lowdb
 * outbox asks for per delivered message, and the throughput that goes with
 * it: N messages accepted and delivered through the real outbox and the
 * real delivery engine (accept, the `sending` mark, the outcome; a fake
 * Gmail that answers at once), by 1 and by 32 callers at a time, each
 * waiting for its message's first attempt as `mail.send` does.
 *
 * Side by side with the previous layout (body file + envelope + a rewrite
 * of `outbox.json` per change, the history appended per outcome), taken
 * from git at PREVIOUS_COMMIT into a temporary folder and run the same way,
 * when git is at hand. The journal's flushes are the store's own count
 * (`syncs()`); the previous layout's are counted at the FileHandle
 * (`sync`/`datasync` calls: it used no O_DSYNC writes). The flushes of the
 * final `close()` (which folds the journal into the files at rest) are
 * reported apart. Target: <= 0.3 flushes per delivered message at 32.
 *
 * Run alone: `node_modules/.bin/node bench/lowdb-flushes.ts [--full] [--messages=N]
 * [--callers=1,32] [--layouts=journal,previous] [--no-warm-up]` (to look at one
 * side alone, e.g. under `strace -f -c -e trace=fsync,fdatasync,openat`).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, open, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { openOutboxRepository } from '../src/adapters/lowdb/outbox-store.ts'
import { createDeliveryEngine } from '../src/app/delivery/engine.ts'
import { silentLogger } from '../src/app/logger.ts'
import { realScheduler } from '../src/app/scheduler.ts'
import type { OutboxEntry } from '../src/domain/mail/record.ts'
import type { OutboxRepository } from '../src/domain/ports.ts'
import { fakeGmail } from '../test/fakes/gmail.ts'
import { type BenchResult, printResults } from './lib.ts'

/** The last commit with the previous layout (before the journal of issue 14). */
const PREVIOUS_COMMIT = '9e8047ceb7a1459f4fd6a942188d1395c3204e8a'
const ROOT = resolve(import.meta.dirname, '..')
const ACCOUNT = 'ann@example.com'
const clock = { now: () => Date.now() }
const raw = new TextEncoder().encode(
  `From: ${ACCOUNT}\r\nTo: bob@example.com\r\nSubject: Your order has shipped\r\n\r\n${'A line of body text, as a receipt has them.\r\n'.repeat(90)}`,
)
const bodySha256 = createHash('sha256').update(raw).digest('hex')

type Store = OutboxRepository & { close(): Promise<void>; syncs?: () => number }
type Open = (dataDir: string) => Promise<Store>

interface Run {
  flushes: number
  closeFlushes: number
  perSecond: number
  sent: number
}

/** Counts FileHandle `sync` and `datasync` calls, process-wide. */
async function fileHandleSyncs(): Promise<() => number> {
  const probe = join(tmpdir(), `lowdb-flushes-${process.pid}.probe`)
  const handle = await open(probe, 'w')
  const proto = Object.getPrototypeOf(handle) as Record<'sync' | 'datasync', (...args: unknown[]) => unknown>
  await handle.close()
  await rm(probe, { force: true })
  let count = 0
  for (const name of ['sync', 'datasync'] as const) {
    const original = proto[name]!
    proto[name] = function counted(this: unknown, ...args: unknown[]) {
      count += 1
      return original.apply(this, args)
    }
  }
  return () => count
}

function entryOf(id: string): OutboxEntry {
  const now = Date.now()
  return {
    id,
    account: ACCOUNT,
    from: `Ann <${ACCOUNT}>`,
    to: ['bob@example.com'],
    cc: [],
    bcc: [],
    subject: `Your order ${id} has shipped`,
    status: 'queued',
    createdAt: now,
    attempts: 0,
    attemptLog: [],
    size: raw.length,
    bodySha256,
    messageId: `<${id}@mail.example.com>`,
    updatedAt: now,
  }
}

/** Accepts and delivers `count` messages with `callers` at a time; flushes counted by `flushes`. */
async function run(openStore: Open, flushes: (store: Store) => number, callers: number, count: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'lowdb-flushes-'))
  try {
    const outbox = await openStore(dataDir)
    const gmail = fakeGmail()
    const engine = createDeliveryEngine({
      outbox,
      gmail,
      clock,
      scheduler: realScheduler,
      random: Math.random,
      logger: silentLogger,
      limits: { perMinute: 0, perDay: 0 },
      concurrency: callers,
      giveUpAfterMs: 86_400_000,
      onReauthorizationRequired: () => {},
    })
    await engine.start()
    const before = flushes(outbox)
    const started = performance.now()
    let next = 0
    const caller = async () => {
      while (next < count) {
        const id = `m${next++}`
        const entry = entryOf(id)
        await outbox.accept([{ entry, raw }])
        engine.enqueue(structuredClone(entry))
        await engine.waitForAttempt(id, 30_000)
      }
    }
    await Promise.all(Array.from({ length: callers }, caller))
    const elapsed = performance.now() - started
    await engine.stop(5_000)
    const during = flushes(outbox) - before
    const sent = (await outbox.countByStatus()).sent
    const beforeClose = flushes(outbox)
    await outbox.close()
    const result: Run = {
      flushes: during,
      closeFlushes: flushes(outbox) - beforeClose,
      perSecond: (count * 1000) / elapsed,
      sent: sent === count && gmail.sent.length === count ? sent : -1,
    }
    return result
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** The previous layout's `openOutboxRepository`, from git, or undefined (and why) when it cannot be had. */
async function previousLayout(): Promise<{ open?: Open; root?: string; why?: string }> {
  const root = await mkdtemp(join(tmpdir(), 'lowdb-previous-'))
  try {
    const archive = execFileSync('git', ['-C', ROOT, 'archive', PREVIOUS_COMMIT, 'src'], {
      maxBuffer: 256 << 20,
    })
    await mkdir(root, { recursive: true })
    execFileSync('tar', ['-x', '-C', root], { input: archive })
    await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'))
    const module = (await import(join(root, 'src/adapters/lowdb/outbox-store.ts'))) as {
      openOutboxRepository: (options: { dataDir: string; clock: typeof clock }) => Promise<Store>
    }
    return { open: (dataDir) => module.openOutboxRepository({ dataDir, clock }), root }
  } catch (error) {
    await rm(root, { recursive: true, force: true })
    return { why: (error instanceof Error ? error.message.split('\n')[0] : undefined) ?? String(error) }
  }
}

/** Measures and returns the result; prints nothing. */
export async function benchLowdbFlushes(options: {
  quick: boolean
  messages?: number
  callers?: number[]
  layouts?: Array<'journal' | 'previous'>
  /** Default true: 50 messages through each side before the measured run. */
  warmUp?: boolean
}): Promise<BenchResult> {
  const count = options.messages ?? (options.quick ? 400 : 2_000)
  const layouts = options.layouts ?? ['journal', 'previous']
  const handleSyncs = await fileHandleSyncs()
  const journal: Open = (dataDir) => openOutboxRepository({ dataDir, clock })
  const previous = layouts.includes('previous') ? await previousLayout() : { why: 'not asked for' }
  const lines: string[] = []
  const figures = new Map<string, Run>()
  let correct = true
  try {
    for (const callers of options.callers ?? [1, 32]) {
      const sides: Array<[string, Open, (store: Store) => number]> = []
      if (layouts.includes('journal')) sides.push(['journal', journal, (store) => store.syncs!()])
      if (previous.open) sides.push(['previous', previous.open, () => handleSyncs()])
      // Warm-up (JIT, file caches), then the measured run.
      if (options.warmUp !== false)
        for (const [, openStore, flushes] of sides) await run(openStore, flushes, callers, 50)
      for (const [name, openStore, flushes] of sides) {
        const measured = await run(openStore, flushes, callers, count)
        if (measured.sent < 0) correct = false
        figures.set(`${name}@${callers}`, measured)
      }
      const row = (name: string) => {
        const figure = figures.get(`${name}@${callers}`)
        if (figure === undefined) return `${name.padEnd(9)} not measured (${previous.why})`
        return `${name.padEnd(9)} ${(figure.flushes / count).toFixed(3)} flushes per delivered message, ${figure.perSecond.toFixed(0)} messages/s (close: ${figure.closeFlushes} flushes)`
      }
      lines.push(`concurrency ${callers}: ${count} messages`, `  ${row('journal')}`, `  ${row('previous')}`)
    }
  } finally {
    if (previous.root !== undefined) await rm(previous.root, { recursive: true, force: true })
  }
  const at32 = (figures.get('journal@32')?.flushes ?? Number.NaN) / count
  return {
    name: 'lowdb outbox: flushes to disk per delivered message at concurrency 32 (accept, sending, sent)',
    ratio: at32,
    target: '<= 0.3',
    met: at32 <= 0.3,
    correct,
    lines,
  }
}

if (import.meta.main) {
  const option = (name: string) =>
    process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)
  const messages = option('messages')
  const callers = option('callers')
  const layouts = option('layouts')
  const result = await benchLowdbFlushes({
    quick: !process.argv.includes('--full'),
    warmUp: !process.argv.includes('--no-warm-up'),
    ...(messages === undefined ? {} : { messages: Number(messages) }),
    ...(callers === undefined ? {} : { callers: callers.split(',').map(Number) }),
    ...(layouts === undefined
      ? {}
      : { layouts: layouts.split(',').filter((name) => name === 'journal' || name === 'previous') }),
  })
  printResults([result])
}
