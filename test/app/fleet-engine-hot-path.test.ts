/**
 * What the fleet engine spares the store on a send, on fakes: the bytes a
 * replica just composed go to its own attempt without being read back;
 * the caller waiting for the attempt gets the entry as settled, with no
 * read; and an attempt that ends claims again only when its lane had due
 * mail it could not take (a lane with free slots hears of new mail from
 * `enqueue`, signals and the poll), while a full lane still drains.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createFleetEngine } from '../../src/app/delivery/fleet-engine.ts'
import { memorySendQuota } from '../../src/app/delivery/memory-send-quota.ts'
import type { DeliveryEngine } from '../../src/app/delivery/types.ts'
import { silentLogger } from '../../src/app/logger.ts'
import { realScheduler } from '../../src/app/scheduler.ts'
import type { AccountState } from '../../src/domain/credentials/account.ts'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import { fakeGmail } from '../fakes/gmail.ts'
import { memoryOutbox } from '../fakes/repositories.ts'

const ACCOUNT = 'support@example.com'
const clock = { now: () => Date.now() }
const engines: DeliveryEngine[] = []

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop(1_000)))
})

function replica(options: { concurrency: number; pollMs?: number }) {
  const store = memoryOutbox(clock)
  const counts = { readRaw: 0, claimDue: 0, get: 0 }
  const outbox: typeof store = {
    ...store,
    readRaw: (id) => {
      counts.readRaw++
      return store.readRaw(id)
    },
    claimDue: (request) => {
      counts.claimDue++
      return store.claimDue(request)
    },
    get: (id) => {
      counts.get++
      return store.get(id)
    },
  }
  const gmail = fakeGmail()
  const engine = createFleetEngine({
    outbox,
    quota: memorySendQuota(clock),
    // Alone in its fleet: its announcements reach nobody (PostgreSQL's signals skip the sender too).
    signals: { publish: async () => {}, subscribe: () => () => {} },
    owner: 'r1',
    gmail,
    clock,
    scheduler: realScheduler,
    random: () => 0.5,
    logger: silentLogger,
    limits: { perMinute: 0, perDay: 0 },
    concurrency: options.concurrency,
    giveUpAfterMs: 86_400_000,
    leaseMs: 5_000,
    pollMs: options.pollMs ?? 60_000,
    accountStates: async () => new Map<string, AccountState>([[ACCOUNT, 'connected']]),
    onReauthorizationRequired: () => {},
  })
  engines.push(engine)
  let counter = 0
  /** Accepts one message into the store; `hand` gives the engine its bytes as `mail.send` does. */
  const accept = async (hand: boolean): Promise<{ entry: OutboxEntry; raw: Uint8Array }> => {
    counter++
    const raw = new TextEncoder().encode(`Subject: ${counter}\r\n\r\nbody ${counter}`)
    const entry: OutboxEntry = {
      id: `m-${counter}`,
      account: ACCOUNT,
      from: ACCOUNT,
      to: ['ann@example.com'],
      cc: [],
      bcc: [],
      subject: `Message ${counter}`,
      status: 'queued',
      createdAt: Date.now() + counter / 1000,
      attempts: 0,
      attemptLog: [],
      size: raw.byteLength,
      messageId: `<m-${counter}@example.com>`,
      updatedAt: Date.now(),
    }
    const [result] = await store.accept([{ entry, raw }])
    engine.enqueue(result!.entry, hand ? raw : undefined)
    return { entry: result!.entry, raw }
  }
  return { engine, store, gmail, counts, accept }
}

describe('the fleet engine on the send path', () => {
  it('sends the bytes it was handed without reading them back, and answers the waiter with the settled entry', async () => {
    const r = replica({ concurrency: 4 })
    await r.engine.start()
    const { entry, raw } = await r.accept(true)
    const answered = await r.engine.waitForAttempt(entry.id, 5_000)
    expect(answered?.status).toBe('sent')
    expect(answered?.gmailMessageId).toBe(r.gmail.sent[0]?.id)
    expect(r.gmail.sent[0]?.raw).toBe(new TextDecoder().decode(raw))
    expect(r.counts.readRaw).toBe(0)
    expect(r.counts.get).toBe(0)
    expect((await r.store.get(entry.id))?.status).toBe('sent')
  })

  it('reads the bytes from the store when it was not handed them', async () => {
    const r = replica({ concurrency: 4 })
    await r.engine.start()
    const { entry, raw } = await r.accept(false)
    expect((await r.engine.waitForAttempt(entry.id, 5_000))?.status).toBe('sent')
    expect(r.gmail.sent[0]?.raw).toBe(new TextDecoder().decode(raw))
    expect(r.counts.readRaw).toBe(1)
  })

  it('claims nothing more when an attempt ends on a lane with free slots', async () => {
    const r = replica({ concurrency: 4 })
    await r.engine.start()
    const claimsAtStart = r.counts.claimDue
    for (let i = 0; i < 3; i++) {
      const { entry } = await r.accept(true)
      expect((await r.engine.waitForAttempt(entry.id, 5_000))?.status).toBe('sent')
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
    // One claim per accepted message, none after each attempt.
    expect(r.counts.claimDue - claimsAtStart).toBe(3)
  })

  it('drains a full lane: an attempt that ends claims what was left for want of a slot', async () => {
    // The poll is an hour away: only the claims after attempts can send the rest.
    const r = replica({ concurrency: 1, pollMs: 3_600_000 })
    await r.engine.start()
    const accepted = []
    for (let i = 0; i < 5; i++) accepted.push((await r.accept(true)).entry)
    const end = Date.now() + 5_000
    while (r.gmail.sent.length < 5 && Date.now() < end)
      await new Promise((resolve) => setTimeout(resolve, 10))
    expect(r.gmail.sent).toHaveLength(5)
    for (const entry of accepted) expect((await r.store.get(entry.id))?.status).toBe('sent')
  })
})
