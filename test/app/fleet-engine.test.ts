/**
 * The fleet engine on fakes: several "replicas" (engines) over one
 * in-memory outbox, one send quota and one signal bus, on the real clock
 * with short leases. What PostgreSQL adds (real locks, real processes) is
 * shown by the contract suite and test/e2e/replicas.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createFleetEngine, type FleetEngineOptions } from '../../src/app/delivery/fleet-engine.ts'
import { localSignals } from '../../src/app/delivery/local-signals.ts'
import { memorySendQuota } from '../../src/app/delivery/memory-send-quota.ts'
import type { DeliveryEngine } from '../../src/app/delivery/types.ts'
import { silentLogger } from '../../src/app/logger.ts'
import { realScheduler } from '../../src/app/scheduler.ts'
import type { AccountState } from '../../src/domain/credentials/account.ts'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import type { FleetSignals, GmailPort } from '../../src/domain/ports.ts'
import { fakeGmail, invalidGrant, rateLimited, rejected, unavailable } from '../fakes/gmail.ts'
import { memoryOutbox } from '../fakes/repositories.ts'

const ACCOUNT = 'support@example.com'
const clock = { now: () => Date.now() }
const engines: DeliveryEngine[] = []

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop(1_000)))
})

function fleet(options: { states?: Map<string, AccountState>; perMinute?: number } = {}) {
  const outbox = memoryOutbox(clock)
  const quota = memorySendQuota(clock)
  const signals = localSignals()
  const states = options.states ?? new Map<string, AccountState>([[ACCOUNT, 'connected']])
  const reauthorizations: string[] = []
  const replica = (owner: string, gmail: GmailPort, extra: Partial<FleetEngineOptions> = {}) => {
    const engine = createFleetEngine({
      outbox,
      quota,
      signals,
      owner,
      gmail,
      clock,
      scheduler: realScheduler,
      random: () => 0.5,
      logger: silentLogger,
      limits: { perMinute: options.perMinute ?? 0, perDay: 0 },
      concurrency: 4,
      giveUpAfterMs: 86_400_000,
      backoff: { baseMs: 20, capMs: 40 },
      leaseMs: 300,
      pollMs: 50,
      accountStates: async () => new Map(states),
      onReauthorizationRequired: (account) => {
        reauthorizations.push(account)
        states.set(account, 'reauthorization_required')
      },
      ...extra,
    })
    engines.push(engine)
    return engine
  }
  let counter = 0
  const accept = async (count: number, into: DeliveryEngine): Promise<OutboxEntry[]> => {
    const made: OutboxEntry[] = []
    for (let i = 0; i < count; i++) {
      counter++
      const entry: OutboxEntry = {
        id: `m-${String(counter).padStart(4, '0')}`,
        account: ACCOUNT,
        from: ACCOUNT,
        to: ['ann@example.com'],
        cc: [],
        bcc: [],
        subject: `Message ${counter}`,
        status: states.get(ACCOUNT) === 'connected' ? 'queued' : 'held',
        createdAt: Date.now() + counter / 1000,
        attempts: 0,
        attemptLog: [],
        size: 10,
        messageId: `<m-${counter}@example.com>`,
        updatedAt: Date.now(),
      }
      const [result] = await outbox.accept([{ entry, raw: new TextEncoder().encode(`body ${counter}`) }])
      made.push(result!.entry)
      into.enqueue(result!.entry)
    }
    return made
  }
  const statuses = async () => (await outbox.pending()).map((entry) => entry.status)
  const until = async (check: () => Promise<boolean> | boolean, ms = 5_000) => {
    const end = Date.now() + ms
    while (!(await check())) {
      if (Date.now() > end) throw new Error('timed out')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  return { outbox, quota, signals, states, replica, accept, statuses, until, reauthorizations }
}

describe('the fleet engine', () => {
  it('sends every message once when three replicas share the outbox', async () => {
    const f = fleet()
    const gmail = fakeGmail()
    const replicas = ['r1', 'r2', 'r3'].map((owner) => f.replica(owner, gmail))
    await Promise.all(replicas.map((engine) => engine.start()))
    for (const engine of replicas) await f.accept(20, engine)
    await f.until(async () => (await f.outbox.pending()).length === 0)
    expect(gmail.sent).toHaveLength(60)
    expect(new Set(gmail.sent.map((item) => item.raw)).size).toBe(60)
    const counts = await f.outbox.countByStatus()
    expect(counts.sent).toBe(60)
  })

  it('takes over the work of a replica that stopped answering, once its lease expires', async () => {
    const f = fleet()
    // r1's Gmail call never returns: it is as good as dead, its claims unrenewed after we stop it.
    const hung: GmailPort = { send: () => new Promise(() => {}) }
    const dead = f.replica('r1', hung, { leaseMs: 200 })
    await dead.start()
    const [message] = await f.accept(1, dead)
    await f.until(async () => (await f.outbox.get(message!.id))?.status === 'sending')
    await dead.stop(0)
    const gmail = fakeGmail()
    const survivor = f.replica('r2', gmail)
    await survivor.start()
    await f.until(async () => (await f.outbox.get(message!.id))?.status === 'sent')
    const stored = await f.outbox.get(message!.id)
    expect(stored?.attempts).toBe(2)
    expect(gmail.sent).toHaveLength(1)
  })

  it('holds the account on every replica when one sees the refresh token refused, and releases it to all', async () => {
    const f = fleet()
    // r1's refresh token is refused until the admin reauthorizes.
    let refused = true
    const gmail1 = fakeGmail()
    const refusing: GmailPort = {
      send: (request) => (refused ? Promise.reject(invalidGrant()) : gmail1.send(request)),
    }
    const r1 = f.replica('r1', refusing)
    const gmail2 = fakeGmail()
    const r2 = f.replica('r2', gmail2)
    await r1.start()
    const made = await f.accept(6, r1)
    await f.until(async () => (await f.statuses()).every((status) => status === 'held'))
    expect(f.reauthorizations).toContain(ACCOUNT)
    // r2 starts later and sees the account held: it sends nothing.
    await r2.start()
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(gmail2.sent).toHaveLength(0)
    // The admin reauthorizes through r2; r1 hears of it too.
    refused = false
    f.states.set(ACCOUNT, 'connected')
    expect(await r2.release(ACCOUNT)).toBe(6)
    await f.until(async () => (await f.outbox.pending()).length === 0)
    const bodies = made.map((_, index) => `body ${index + 1}`)
    const sent = [...gmail1.sent, ...gmail2.sent].map((item) => item.raw)
    expect([...sent].sort()).toEqual(bodies)
    // Each replica sends what it claimed in acceptance order.
    for (const gmail of [gmail1, gmail2]) {
      const own = gmail.sent.map((item) => bodies.indexOf(item.raw))
      expect(own).toEqual([...own].sort((a, b) => a - b))
    }
  })

  it('sends the messages a replica claims together in acceptance order, however the quota answers', async () => {
    const f = fleet()
    // The store answers the first reservation last (as concurrent transactions on a row lock may).
    let calls = 0
    const quota: FleetEngineOptions['quota'] = {
      ...f.quota,
      reserve: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 40 - 10 * calls++)))
        return f.quota.reserve(request)
      },
    }
    const gmail = fakeGmail()
    // Accepted before the replica starts: its first claim takes all four at once.
    const made = await f.accept(4, { enqueue() {} } as unknown as DeliveryEngine)
    const replica = f.replica('r1', gmail, { quota })
    await replica.start()
    await f.until(async () => (await f.outbox.pending()).length === 0)
    expect(gmail.sent.map((item) => item.raw)).toEqual(made.map((_, index) => `body ${index + 1}`))
  })

  it('drops an outcome whose claim was taken over, and keeps the new owner’s', async () => {
    const f = fleet()
    let answer: (() => void) | undefined
    const slow: GmailPort = {
      send: () =>
        new Promise((resolve) => {
          answer = () => resolve({ id: 'late', threadId: 'late' })
        }),
    }
    // r1 renews too rarely: its 100 ms lease expires while Gmail is slow.
    const r1 = f.replica('r1', slow, { leaseMs: 100 })
    await r1.start()
    const [message] = await f.accept(1, r1)
    await f.until(() => answer !== undefined)
    await r1.stop(0)
    const gmail = fakeGmail()
    const r2 = f.replica('r2', gmail)
    await r2.start()
    await f.until(async () => (await f.outbox.get(message!.id))?.status === 'sent')
    answer!()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const stored = await f.outbox.get(message!.id)
    expect(stored?.gmailMessageId).toBe('gm-1')
  })

  it('paces the fleet as one: two replicas together stay within the per-minute rate', async () => {
    // 300 a minute: a burst of 10, then one send every ~210 ms (gcra.ts). Each replica alone would
    // send its 6 at once; as one fleet the 11th and 12th sends must wait one and two intervals.
    const f = fleet({ perMinute: 300 })
    const gmail = fakeGmail()
    const times: number[] = []
    const timed: GmailPort = {
      send: (request) => {
        times.push(Date.now())
        return gmail.send(request)
      },
    }
    const replicas = [f.replica('r1', timed), f.replica('r2', timed)]
    await Promise.all(replicas.map((engine) => engine.start()))
    await f.accept(6, replicas[0]!)
    await f.accept(6, replicas[1]!)
    await f.until(async () => (await f.outbox.pending()).length === 0, 10_000)
    times.sort((a, b) => a - b)
    expect(gmail.sent).toHaveLength(12)
    expect(times[9]! - times[0]!).toBeLessThan(150)
    expect(times[11]! - times[0]!).toBeGreaterThanOrEqual(400)
  })

  it("slows every replica after one meets a 429: Gmail's Retry-After holds for the fleet", async () => {
    const f = fleet({ perMinute: 6_000 })
    const times: number[] = []
    const timedGmail = (gmail: GmailPort): GmailPort => ({
      send: (request) => {
        times.push(Date.now())
        return gmail.send(request)
      },
    })
    const limited = fakeGmail()
    limited.failNext(rateLimited(500))
    const r1 = f.replica('r1', timedGmail(limited))
    await r1.start()
    await f.accept(1, r1)
    await f.until(() => limited.calls === 1)
    const refusedAt = times[0]!
    // r2 joins after the 429, with work of its own: it must wait out Google's word too.
    const gmail = fakeGmail()
    const r2 = f.replica('r2', timedGmail(gmail))
    await r2.start()
    await f.accept(3, r2)
    await f.until(async () => (await f.outbox.pending()).length === 0, 10_000)
    expect(gmail.sent.length + limited.sent.length).toBe(4)
    // Every send after the refused one waited for its Retry-After (the clock's slack aside).
    for (const at of times.slice(1)) expect(at - refusedAt).toBeGreaterThanOrEqual(480)
  })

  it('delivers by polling alone when every notification is lost (a pooler that drops them)', async () => {
    const f = fleet()
    const deaf: FleetSignals = { publish: async () => {}, subscribe: () => () => {} }
    const gmail = fakeGmail()
    const r1 = f.replica('r1', gmail, { signals: deaf })
    const r2 = f.replica('r2', gmail, { signals: deaf })
    await Promise.all([r1.start(), r2.start()])
    // Accepted by a third party that tells nobody: only the poll can find the work.
    await f.accept(5, { enqueue() {} } as unknown as DeliveryEngine)
    await f.until(async () => (await f.outbox.pending()).length === 0, 3_000)
    expect(new Set(gmail.sent.map((item) => item.raw)).size).toBe(5)
  })

  it('reports each recorded outcome to the metrics port, and nothing for a claim given back', async () => {
    const f = fleet()
    const gmail = fakeGmail()
    gmail.failNext(unavailable(), rejected())
    const outcomes: string[] = []
    const metrics = { messageOutcome: (outcome: string) => outcomes.push(outcome) }
    const engine = f.replica('r1', gmail, { metrics, concurrency: 1 })
    await engine.start()
    await f.accept(2, engine)
    await f.until(async () => (await f.outbox.pending()).length === 0)
    expect(await f.outbox.countByStatus()).toMatchObject({ sent: 1, failed: 1 })
    // Whichever message met which answer: one retry, then one sent and one failed.
    expect(outcomes.sort()).toEqual(['failed', 'retry', 'sent'])
  })
})
