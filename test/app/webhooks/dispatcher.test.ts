import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../../src/app/logger.ts'
import {
  createWebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../../../src/app/webhooks/dispatcher.ts'
import type { EventType, WebhookEvent } from '../../../src/domain/webhooks/event.ts'
import type { WebhookAnswer } from '../../../src/domain/webhooks/retry.ts'
import { type WebhookRequest, webhookBody } from '../../../src/domain/webhooks/sender.ts'
import { manualTime } from '../../fakes/clock.ts'
import { memoryWebhookStore } from '../../fakes/webhooks.ts'

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
const policy = { baseMs: 1_000, capMs: 60_000, giveUpAfterMs: 24 * 3_600_000 }
const timeoutMs = 500

/** A receiver in memory: answers from `script` in order (the last one after), or hangs until `release`. */
function scriptedSender(
  time: ReturnType<typeof manualTime>,
  script: Array<WebhookAnswer | 'timeout' | 'hang'>,
) {
  const requests: Array<WebhookRequest & { at: number; url: string }> = []
  const hanging: Array<(answer: WebhookAnswer) => void> = []
  let inFlight = 0
  let maxInFlight = 0
  return {
    requests,
    maxInFlight: () => maxInFlight,
    release(answer: WebhookAnswer) {
      for (const resolve of hanging.splice(0)) resolve(answer)
    },
    async send(request: WebhookRequest): Promise<WebhookAnswer> {
      requests.push({ ...request, at: time.now() })
      const step = script[Math.min(requests.length - 1, script.length - 1)]!
      inFlight += 1
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        if (step === 'timeout') {
          return await new Promise((resolve) => time.after(timeoutMs, () => resolve({ error: 'timeout' })))
        }
        if (step === 'hang') return await new Promise((resolve) => hanging.push(resolve))
        return step
      } finally {
        inFlight -= 1
      }
    },
  }
}

function setup(
  script: Array<WebhookAnswer | 'timeout' | 'hang'>,
  extra: Partial<WebhookDispatcherOptions> = {},
) {
  const time = manualTime()
  const store = memoryWebhookStore()
  const sender = scriptedSender(time, script)
  const outcomes: string[] = []
  const options: WebhookDispatcherOptions = {
    store,
    sender,
    clock: time,
    scheduler: time,
    random: () => 0.5,
    logger: silentLogger,
    owner: 'replica-a',
    policy,
    timeoutMs,
    metrics: { webhookDelivery: (outcome) => outcomes.push(outcome) },
    ...extra,
  }
  const dispatcher = createWebhookDispatcher(options)
  let seq = 0
  const event = (type: EventType = 'mail.sent'): WebhookEvent => ({
    id: `evt_${++seq}`,
    type,
    at: time.now(),
    data: { id: `m${seq}`, status: 'sent' },
  })
  const endpoint = async (id: string, events: EventType[] = []) =>
    store.createEndpoint({
      id,
      url: `https://hooks.example/${id}`,
      events,
      secret: SECRET,
      createdAt: time.now(),
    })
  const publish = async (...events: WebhookEvent[]) => {
    await store.publish(events, time.now())
    dispatcher.nudge()
  }
  return { time, store, sender, dispatcher, event, endpoint, publish, outcomes, options }
}

describe('the webhook dispatcher', () => {
  it('delivers a published event once to each subscribed endpoint, signed with its secret and the event body', async () => {
    const { time, store, sender, dispatcher, event, endpoint, publish, outcomes } = setup([{ status: 204 }])
    await endpoint('wh_all')
    await endpoint('wh_accounts', ['account.connected'])
    dispatcher.start()
    const sent = event('mail.sent')
    await publish(sent)
    await time.advance(10)
    expect(sender.requests.map((request) => request.url)).toEqual(['https://hooks.example/wh_all'])
    const request = sender.requests[0]!
    expect(request).toMatchObject({ id: sent.id, secret: SECRET, body: webhookBody(sent) })
    expect(request.timestamp).toBe(Math.floor(time.now() / 1000))
    expect(await store.pendingCount()).toBe(0)
    expect([...store.finished.values()]).toEqual(['delivered'])
    expect(await store.attempts('wh_all', 10)).toMatchObject([{ eventId: sent.id, status: 204, ok: true }])
    expect(outcomes).toEqual(['delivered'])
    await time.advance(60_000)
    expect(sender.requests).toHaveLength(1)
  })

  it('retries a 500 and then a timeout with doubling delays, under one webhook-id, until a 204', async () => {
    const { time, store, sender, dispatcher, event, endpoint, publish, outcomes } = setup([
      { status: 500 },
      'timeout',
      { status: 204 },
    ])
    await endpoint('wh_1')
    dispatcher.start()
    const start = time.now()
    await publish(event())
    await time.advance(1)
    expect(sender.requests).toHaveLength(1)
    // The first retry is due one base delay after the 500.
    await time.advance(policy.baseMs - 10)
    expect(sender.requests).toHaveLength(1)
    await time.advance(20)
    expect(sender.requests).toHaveLength(2)
    // The timeout ends the second attempt; the next waits twice the base.
    await time.advance(timeoutMs + 2 * policy.baseMs + 10)
    expect(sender.requests).toHaveLength(3)
    expect(new Set(sender.requests.map((request) => request.id)).size).toBe(1)
    expect(sender.requests.map((request) => request.at - start)).toEqual([
      0,
      1_000,
      1_000 + timeoutMs + 2_000,
    ])
    const attempts = await store.attempts('wh_1', 10)
    expect(attempts.map((attempt) => attempt.status ?? attempt.error)).toEqual([204, 'timeout', 500])
    expect(attempts[1]!.durationMs).toBe(timeoutMs)
    expect(outcomes).toEqual(['retry', 'retry', 'delivered'])
    expect(await store.pendingCount()).toBe(0)
  })

  it('disables an endpoint that answers 410 and sends it nothing more', async () => {
    const { time, store, sender, dispatcher, event, endpoint, publish, outcomes } = setup([{ status: 410 }])
    await endpoint('wh_gone')
    dispatcher.start()
    await publish(event())
    await time.advance(10)
    const [listed] = await store.listEndpoints()
    expect(listed?.disabledAt).toBe(time.now() - 10)
    expect(listed?.disabledReason).toMatch(/410/)
    expect(listed?.lastAttempt).toMatchObject({ status: 410, ok: false })
    expect(outcomes).toEqual(['disabled'])
    await publish(event(), event())
    await time.advance(60_000)
    expect(sender.requests).toHaveLength(1)
    expect(await store.pendingCount()).toBe(0)
  })

  it('gives up after retrying for 24 hours from the first due time', async () => {
    const { time, store, sender, dispatcher, event, endpoint, publish, outcomes } = setup([{ status: 503 }], {
      // Only the retries' own timers: a day of one-second polls would only slow the test.
      pollMs: 3_600_000,
    })
    await endpoint('wh_down')
    dispatcher.start()
    const start = time.now()
    await publish(event())
    await time.advance(25 * 3_600_000)
    expect([...store.finished.values()]).toEqual(['gave_up'])
    const last = sender.requests.at(-1)!
    expect(last.at - start).toBeGreaterThanOrEqual(policy.giveUpAfterMs)
    expect(sender.requests.at(-2)!.at - start).toBeLessThan(policy.giveUpAfterMs)
    expect(outcomes.at(-1)).toBe('gave_up')
    expect(outcomes.filter((outcome) => outcome === 'retry')).toHaveLength(sender.requests.length - 1)
  })

  it('keeps at most `concurrency` attempts in flight and sends the rest as they finish', async () => {
    const { time, store, sender, dispatcher, event, endpoint, publish } = setup(['hang'], { concurrency: 3 })
    await endpoint('wh_slow')
    dispatcher.start()
    await publish(...Array.from({ length: 10 }, () => event()))
    await time.advance(10)
    expect(sender.requests).toHaveLength(3)
    for (let round = 0; round < 4; round++) {
      sender.release({ status: 200 })
      await time.advance(10)
    }
    expect(sender.maxInFlight()).toBe(3)
    expect(new Set(sender.requests.map((request) => request.id)).size).toBe(10)
    expect(sender.requests).toHaveLength(10)
    expect(await store.pendingCount()).toBe(0)
  })

  it('finds events published without a nudge by polling', async () => {
    const { time, store, sender, dispatcher, event, endpoint } = setup([{ status: 204 }], { pollMs: 1_000 })
    await endpoint('wh_1')
    dispatcher.start()
    await time.advance(5_000)
    // Written by another process (a PostgreSQL trigger on another replica): nobody nudges this one.
    await store.publish([event()], time.now())
    await time.advance(1_000)
    expect(sender.requests).toHaveLength(1)
  })

  it('goes on by polling after the store failed a claim', async () => {
    const { time, store, sender, dispatcher, event, endpoint } = setup([{ status: 204 }], { pollMs: 1_000 })
    await endpoint('wh_1')
    const claimDue = store.claimDue
    let failures = 2
    store.claimDue = async (request) => {
      if (failures-- > 0) throw new Error('The database is away')
      return claimDue(request)
    }
    await store.publish([event()], time.now())
    dispatcher.start()
    await time.advance(10)
    expect(sender.requests).toHaveLength(0)
    await time.advance(2_000)
    expect(sender.requests).toHaveLength(1)
    expect(await store.pendingCount()).toBe(0)
  })

  it('sends each event once when two dispatchers share the store', async () => {
    const a = setup([{ status: 204 }], { owner: 'replica-a' })
    const b = createWebhookDispatcher({ ...a.options, owner: 'replica-b' })
    await a.endpoint('wh_1')
    a.dispatcher.start()
    b.start()
    for (let i = 0; i < 20; i++) {
      await a.publish(a.event())
      b.nudge()
    }
    await a.time.advance(5_000)
    expect(a.sender.requests).toHaveLength(20)
    expect(new Set(a.sender.requests.map((request) => request.id)).size).toBe(20)
  })

  it('lets another dispatcher take over a claim whose holder died, after its lease, under the same webhook-id', async () => {
    const first = setup(['hang'], { owner: 'replica-a', leaseMs: 5_000 })
    await first.endpoint('wh_1')
    first.dispatcher.start()
    await first.publish(first.event())
    await first.time.advance(10)
    expect(first.sender.requests).toHaveLength(1)
    // replica-a is gone mid-attempt (its attempt never answers, nothing is settled).
    await first.dispatcher.stop(0)
    const second = createWebhookDispatcher({
      ...first.options,
      owner: 'replica-b',
      sender: { send: async () => ({ status: 204 }) },
    })
    second.start()
    await first.time.advance(4_000)
    expect(first.store.finished.size).toBe(0)
    await first.time.advance(2_000)
    expect([...first.store.finished.values()]).toEqual(['delivered'])
    const attempts = await first.store.attempts('wh_1', 10)
    expect(attempts).toHaveLength(1)
    expect(attempts[0]!.eventId).toBe(first.sender.requests[0]!.id)
    // The dead holder's late answer changes nothing: its claim is gone.
    first.sender.release({ status: 500 })
    await first.time.advance(10)
    expect(await first.store.attempts('wh_1', 10)).toHaveLength(1)
    expect(await first.store.pendingCount()).toBe(0)
  })

  it('stops claiming at stop, and records the attempt in flight when it finishes in time', async () => {
    const { time, store, sender, dispatcher, event, endpoint, publish } = setup(['hang'])
    await endpoint('wh_1')
    dispatcher.start()
    await publish(event())
    await time.advance(10)
    const stopped = dispatcher.stop(5_000)
    await publish(event())
    sender.release({ status: 204 })
    await time.advance(10)
    await stopped
    expect(await store.attempts('wh_1', 10)).toMatchObject([{ status: 204, ok: true }])
    await time.advance(60_000)
    expect(sender.requests).toHaveLength(1)
    expect(await store.pendingCount()).toBe(1)
    expect(time.pendingTimers()).toBe(0)
  })
})
