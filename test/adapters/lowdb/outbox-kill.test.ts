/**
 * The lowdb outbox across a SIGKILL: a child process sends messages
 * through it (journal appends, compactions in the background, bodies moved
 * to files) and is killed at a moment of its own; the store opened again on
 * its DATA_DIR has every message whose acceptance or outcome was
 * acknowledged, each body intact, and reports only the repairs a crash can
 * call for.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type NoticeListener, openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import { makeTempDir } from './fixtures.ts'

const root = resolve(import.meta.dirname, '../../..')

/** Runs the child until it has acknowledged `sends` outcomes (and a random few more), then kills it. */
async function runAndKill(dataDir: string, prefix: string, sends: number) {
  const child = spawn(
    resolve(root, 'node_modules/.bin/node'),
    ['test/adapters/lowdb/outbox-kill-child.ts', dataDir, prefix],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const accepted = new Set<string>()
  const sent = new Set<string>()
  const killAt = sends + Math.floor(Math.random() * sends)
  let buffered = ''
  const exited = new Promise<NodeJS.Signals | null>((done) =>
    child.on('exit', (_code, signal) => done(signal)),
  )
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    const lines = buffered.split('\n')
    buffered = lines.pop()!
    for (const line of lines) {
      const [kind, id] = line.split(' ')
      if (kind === 'accepted') accepted.add(id!)
      if (kind === 'sent') sent.add(id!)
    }
    if (sent.size >= killAt) child.kill('SIGKILL')
  })
  expect(await exited).toBe('SIGKILL')
  return { accepted, sent }
}

/** Repairs a crash may call for: a torn last record or line, interrupted temporary writes and clean-ups. */
const CRASH_REPAIRS = [
  /^Dropped an incomplete last record of the outbox journal \(interrupted write\)/,
  /^Removed interrupted writes of (the outbox file|message bodies)$/,
  /^Removed interrupted rewrites of the history$/,
  /^Dropped an incomplete last line of the history \(interrupted write\)/,
  /^Removed the bodies of sent or canceled messages \(interrupted clean-up\)$/,
]

describe('the lowdb outbox killed with SIGKILL while it sends', () => {
  it('keeps every acknowledged acceptance and outcome, with intact bodies, across two kills', async () => {
    const dataDir = await makeTempDir()
    const accepted = new Set<string>()
    const sent = new Set<string>()
    for (const round of [1, 2]) {
      const acknowledged = await runAndKill(dataDir, `r${round}-`, 300)
      expect(acknowledged.sent.size).toBeGreaterThanOrEqual(300)
      for (const id of acknowledged.accepted) accepted.add(id)
      for (const id of acknowledged.sent) sent.add(id)
      const notices: string[] = []
      const onNotice: NoticeListener = (message) => notices.push(message)
      const outbox = await openOutboxRepository({ dataDir, clock: { now: () => Date.now() }, onNotice })
      expect(notices.filter((notice) => !CRASH_REPAIRS.some((pattern) => pattern.test(notice)))).toEqual([])
      const missing: string[] = []
      const wrong: string[] = []
      for (const id of accepted) {
        const stored = await outbox.get(id)
        if (stored === undefined) missing.push(id)
        else if (sent.has(id) && stored.status !== 'sent') wrong.push(id)
        else if (stored.status !== 'sent') await outbox.readRaw(id)
      }
      expect({ round, missing, wrong }).toEqual({ round, missing: [], wrong: [] })
      await outbox.close()
    }
  }, 60_000)
})
