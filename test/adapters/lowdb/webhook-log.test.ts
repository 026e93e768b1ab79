/**
 * The lowdb webhook store's log (src/adapters/lowdb/webhook-log.ts), on real
 * files: what a call acknowledged is there on the next open even when the
 * process never closed the store (a SIGKILL); a torn last line is ignored
 * and any other damage stops the open, naming the file; the log is folded
 * into the snapshot as it grows, on open and on close, so the files stay
 * bounded; a log file a crash left beside a newer snapshot is read without
 * applying its records twice.
 */
import { appendFile, copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { DELIVERIES_FILE, logFileName, logGeneration } from '../../../src/adapters/lowdb/webhook-files.ts'
import { type LowdbWebhookStoreOptions, openWebhookStore } from '../../../src/adapters/lowdb/webhook-store.ts'
import type { DeliveryJob, WebhookEvent } from '../../../src/domain/webhooks/event.ts'
import { attemptRecord } from '../../../src/domain/webhooks/event.ts'
import type { WebhookStore } from '../../../src/domain/webhooks/ports.ts'
import { DAY, makeClock, makeTempDir, T0 } from './fixtures.ts'

const cipher = createTokenCipher([new Uint8Array(32).fill(8)])
const endpoint = {
  id: 'wh_log',
  url: 'https://hooks.example.com/log',
  events: [],
  secret: 'whsec_bG9nLXNlY3JldA==',
  createdAt: T0,
}
const event = (n: number): WebhookEvent => ({
  id: `evt_${n}`,
  type: 'mail.sent',
  at: T0,
  data: { id: `m${n}`, status: 'sent', to: ['bob@example.com'], subject: `Order ${n}` },
})

const open = (dataDir: string, options: Partial<LowdbWebhookStoreOptions> = {}) =>
  openWebhookStore({ dataDir, cipher, clock: makeClock(), ...options })

const logFiles = async (dataDir: string) =>
  (await readdir(dataDir)).filter((name) => logGeneration(name) !== undefined).sort()

async function deliver(store: WebhookStore, job: DeliveryJob, done: boolean) {
  return store.settle({
    owner: 'a',
    deliveryId: job.id,
    attempt: attemptRecord(job, {
      at: T0 + 1,
      status: done ? 204 : 500,
      ok: done,
      durationMs: 2,
    }),
    next: done ? { done: 'delivered' } : { retryAt: T0 + 1_000 },
  })
}

/** What a store holds, as its readers tell it. */
async function seen(store: Awaited<ReturnType<typeof open>>) {
  return {
    pending: await store.pendingCount(),
    next: await store.nextDueAt(),
    attempts: await store.attempts(endpoint.id, 100),
    noted: store.noted(),
    claimable: (await store.claimDue({ owner: 'z', now: T0 + DAY, leaseMs: 1, limit: 100 })).map((job) => [
      job.event.id,
      job.attempts,
    ]),
  }
}

describe('the lowdb webhook log', () => {
  it('has every acknowledged change on the next open, though the store was never closed', async () => {
    const dataDir = await makeTempDir()
    const first = await open(dataDir)
    await first.createEndpoint(endpoint)
    await first.publish([1, 2, 3, 4].map(event), T0)
    const jobs = await first.claimDue({ owner: 'a', now: T0, leaseMs: DAY, limit: 10 })
    await Promise.all([deliver(first, jobs[0]!, true), deliver(first, jobs[1]!, false)])
    await first.note([{ kind: 'mail', id: 'm9', prior: 'queued' }])
    await first.conclude([], [event(5)], T0)
    expect(await logFiles(dataDir)).not.toEqual([])

    // No close: what a SIGKILL leaves. The claims were the dead process's.
    const second = await open(dataDir)
    expect(await seen(second)).toEqual({
      pending: 4,
      next: T0,
      attempts: [
        expect.objectContaining({ eventId: 'evt_2', status: 500 }),
        expect.objectContaining({ eventId: 'evt_1', status: 204 }),
      ],
      noted: [{ kind: 'mail', id: 'm9', prior: 'queued' }],
      claimable: [
        ['evt_3', 0],
        ['evt_4', 0],
        ['evt_5', 0],
        ['evt_2', 1],
      ],
    })
    // The open folded the log into the snapshot.
    expect(await logFiles(dataDir)).toEqual([])
    await second.close()
    // The dead process's handle, which the test still holds.
    await first.close()
  })

  it('ignores a torn last line, and refuses a damaged line before others, naming the file and line', async () => {
    const dataDir = await makeTempDir()
    const store = await open(dataDir)
    await store.createEndpoint(endpoint)
    await store.publish([event(1)], T0)
    await store.publish([event(2)], T0)
    const [name] = await logFiles(dataDir)
    const path = join(dataDir, name!)
    const intact = await readFile(path, 'utf8')
    // A crash in the middle of an append: the line was never acknowledged.
    await appendFile(path, '{"seq":3,"changes":[{"kind":"add","ev')
    const reopened = await open(dataDir)
    expect(await reopened.pendingCount()).toBe(2)
    await reopened.close()

    const other = await makeTempDir()
    const again = await open(other)
    await again.createEndpoint(endpoint)
    await again.publish([event(1)], T0)
    await again.publish([event(2)], T0)
    const [otherName] = await logFiles(other)
    // Its log as a crash leaves it (a close would fold it into the snapshot).
    const lines = (await readFile(join(other, otherName!), 'utf8')).split('\n')
    await writeFile(join(other, otherName!), [lines[0], '{"seq":2,"chan', ...lines.slice(1)].join('\n'))
    await expect(open(other)).rejects.toMatchObject({
      code: 'STORAGE',
      message: `The store file ${otherName} is damaged at line 2`,
    })
    expect(intact.split('\n').filter(Boolean)).toHaveLength(2)
    await Promise.all([store.close(), again.close()])
  })

  it('folds the log into the snapshot as it grows and on close: the files stay bounded', async () => {
    const dataDir = await makeTempDir()
    const store = await open(dataDir, { compactAfterBytes: 8_000, finishedKept: 20, attemptsPerEndpoint: 5 })
    await store.createEndpoint(endpoint)
    let largest = 0
    for (let round = 0; round < 30; round++) {
      await store.publish(
        Array.from({ length: 10 }, (_, n) => event(round * 10 + n)),
        T0,
      )
      const jobs = await store.claimDue({ owner: 'a', now: T0, leaseMs: DAY, limit: 10 })
      await Promise.all(jobs.map((job) => deliver(store, job, true)))
      let bytes = 0
      for (const name of [...(await logFiles(dataDir)), DELIVERIES_FILE]) {
        bytes += (await stat(join(dataDir, name)).catch(() => ({ size: 0 }))).size
      }
      largest = Math.max(largest, bytes)
    }
    // 300 events, their deliveries and attempts, kept to the last 20 and 5: a few log files' worth at most.
    expect(largest).toBeLessThan(60_000)
    await store.close()
    expect(await logFiles(dataDir)).toEqual([])
    const snapshot = JSON.parse(await readFile(join(dataDir, DELIVERIES_FILE), 'utf8'))
    expect(snapshot.deliveries).toHaveLength(20)
    expect(snapshot.attempts[endpoint.id]).toHaveLength(5)
    const reopened = await open(dataDir)
    expect(await reopened.pendingCount()).toBe(0)
    await reopened.close()
  })

  it('skips the records a snapshot holds already, when a crash left their log file beside it', async () => {
    const dataDir = await makeTempDir()
    const store = await open(dataDir)
    await store.createEndpoint(endpoint)
    await store.publish([event(1), event(2)], T0)
    const [job] = await store.claimDue({ owner: 'a', now: T0, leaseMs: DAY, limit: 1 })
    await deliver(store, job!, false)
    const [name] = await logFiles(dataDir)
    const kept = join(dataDir, 'kept.log')
    await copyFile(join(dataDir, name!), kept)
    await store.close()
    const first = await open(dataDir)
    const before = await seen(first)
    await first.close()
    // The snapshot was written, the crash came before the log file was deleted.
    await copyFile(kept, join(dataDir, logFileName(1)))
    const second = await open(dataDir)
    const after = await seen(second)
    await second.close()
    expect(after).toEqual(before)
    expect(after.attempts).toHaveLength(1)
    expect(after.claimable).toEqual([
      ['evt_2', 0],
      ['evt_1', 1],
    ])
  })
})
