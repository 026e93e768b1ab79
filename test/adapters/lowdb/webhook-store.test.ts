/**
 * What only the lowdb webhook store shows (the contract is in
 * test/contracts/webhook-store.test.ts): claims are the process's own and
 * a restart frees them; what it writes stays bounded (attempts per
 * endpoint, finished deliveries by count and age, events no longer
 * needed); nothing is written while no endpoint wants an event; a damaged
 * file stops the open with a sentence naming it.
 */
import { access, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { DELIVERIES_FILE, ENDPOINTS_FILE } from '../../../src/adapters/lowdb/webhook-files.ts'
import { type LowdbWebhookStoreOptions, openWebhookStore } from '../../../src/adapters/lowdb/webhook-store.ts'
import type { DeliveryJob, WebhookEndpoint, WebhookEvent } from '../../../src/domain/webhooks/event.ts'
import { attemptRecord } from '../../../src/domain/webhooks/event.ts'
import type { WebhookStore } from '../../../src/domain/webhooks/ports.ts'
import { DAY, makeClock, makeTempDir, T0 } from './fixtures.ts'

const cipher = createTokenCipher([new Uint8Array(32).fill(6)])
const endpoint: WebhookEndpoint = {
  id: 'wh_1',
  url: 'https://hooks.example.com/1',
  events: [],
  secret: 'whsec_c2VjcmV0LTE=',
  createdAt: T0,
}
const event = (n: number): WebhookEvent => ({ id: `evt_${n}`, type: 'mail.sent', at: T0, data: { n } })

async function open(dataDir: string, clock = makeClock(), options: Partial<LowdbWebhookStoreOptions> = {}) {
  return openWebhookStore({ dataDir, cipher, clock, ...options })
}

async function settleOnce(store: WebhookStore, job: DeliveryJob, at: number, done: boolean) {
  return store.settle({
    owner: 'a',
    deliveryId: job.id,
    attempt: attemptRecord(job, {
      at,
      status: done ? 204 : 503,
      ok: done,
      durationMs: 1,
    }),
    next: done ? { done: 'delivered' } : { retryAt: at },
  })
}

const stored = async (dataDir: string) => JSON.parse(await readFile(join(dataDir, DELIVERIES_FILE), 'utf8'))

describe('the lowdb webhook store', () => {
  it('frees every claim on a restart: the delivery is due again at once, as its attempt was cut short', async () => {
    const dataDir = await makeTempDir()
    const first = await open(dataDir)
    await first.createEndpoint(endpoint)
    await first.publish([event(1)], T0)
    const [job] = await first.claimDue({ owner: 'a', now: T0, leaseMs: DAY, limit: 5 })
    expect(await first.claimDue({ owner: 'b', now: T0 + 1, leaseMs: DAY, limit: 5 })).toEqual([])
    await first.close()

    const second = await open(dataDir)
    const [again] = await second.claimDue({ owner: 'b', now: T0 + 1, leaseMs: DAY, limit: 5 })
    expect(again).toEqual(job)
    // The claim is the new process's now: the old owner's settle writes nothing.
    expect(await settleOnce(second, again!, T0 + 2, true)).toBe(false)
    await second.close()
    expect(await (await open(dataDir)).pendingCount()).toBe(1)
  })

  it('keeps the latest attempts per endpoint and the latest finished deliveries, and the events they need', async () => {
    const dataDir = await makeTempDir()
    const store = await open(dataDir, makeClock(), { attemptsPerEndpoint: 3, finishedKept: 2 })
    await store.createEndpoint(endpoint)
    await store.publish([1, 2, 3, 4, 5].map(event), T0)
    const jobs = await store.claimDue({ owner: 'a', now: T0, leaseMs: 1_000, limit: 10 })
    for (const [index, job] of jobs.entries()) await settleOnce(store, job, T0 + index, true)
    await store.close()

    const file = await stored(dataDir)
    expect(file.deliveries.map((delivery: { eventId: string }) => delivery.eventId)).toEqual([
      'evt_4',
      'evt_5',
    ])
    expect(file.attempts.wh_1.map((attempt: { eventId: string }) => attempt.eventId)).toEqual([
      'evt_3',
      'evt_4',
      'evt_5',
    ])
    expect(Object.keys(file.events).sort()).toEqual(['evt_3', 'evt_4', 'evt_5'])
    expect((await store.attempts('wh_1', 10)).map((attempt) => attempt.eventId)).toEqual([
      'evt_5',
      'evt_4',
      'evt_3',
    ])
    // The event of a listed attempt can still be replayed; one no longer listed cannot.
    expect(await store.replay({ endpointId: 'wh_1', eventId: 'evt_3', at: T0, deliveryId: 'dlv_r1' })).toBe(
      true,
    )
    expect(await store.replay({ endpointId: 'wh_1', eventId: 'evt_1', at: T0, deliveryId: 'dlv_r2' })).toBe(
      false,
    )
  })

  it('drops finished deliveries older than the retention, and keeps pending ones however old', async () => {
    const dataDir = await makeTempDir()
    const clock = makeClock()
    const store = await open(dataDir, clock, { retentionMs: DAY, attemptsPerEndpoint: 0 })
    await store.createEndpoint(endpoint)
    await store.publish([event(1), event(2)], T0)
    const [done] = await store.claimDue({ owner: 'a', now: T0, leaseMs: 1_000, limit: 1 })
    await settleOnce(store, done!, T0, true)
    clock.set(T0 + 2 * DAY)
    await store.publish([event(3)], T0 + 2 * DAY)
    await store.close()
    const file = await stored(dataDir)
    expect(file.deliveries.map((delivery: { eventId: string }) => delivery.eventId)).toEqual([
      'evt_2',
      'evt_3',
    ])
    expect(Object.keys(file.events).sort()).toEqual(['evt_2', 'evt_3'])
    expect(await store.pendingCount()).toBe(2)
  })

  it('writes no file for events no endpoint wants: webhooks unused cost nothing', async () => {
    const dataDir = await makeTempDir()
    const store = await open(dataDir)
    await store.publish([event(1)], T0)
    await store.note([])
    await store.conclude([], [event(2)], T0)
    expect(store.wants(['mail.sent'])).toBe(false)
    await store.close()
    await expect(access(join(dataDir, DELIVERIES_FILE))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(access(join(dataDir, ENDPOINTS_FILE))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('refuses to open a damaged file, naming it', async () => {
    const dataDir = await makeTempDir()
    await writeFile(join(dataDir, DELIVERIES_FILE), '{"version":1,"events":[]}')
    await expect(open(dataDir)).rejects.toMatchObject({
      code: 'STORAGE',
      message: `The store file ${DELIVERIES_FILE} does not have the expected shape`,
    })
    await writeFile(join(dataDir, ENDPOINTS_FILE), '{ not json')
    await expect(open(dataDir)).rejects.toMatchObject({
      message: `The store file ${ENDPOINTS_FILE} is not valid JSON`,
    })
  })
})
