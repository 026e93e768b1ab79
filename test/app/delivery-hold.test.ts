import { describe, expect, it } from 'vitest'
import { invalidGrant } from '../fakes/gmail.ts'
import { deliveryHarness } from './delivery-harness.ts'

const ACCOUNT = 'support@example.com'

describe('delivery engine: held accounts, restarts and waiting callers', () => {
  it('marks mail that reaches a held lane as held, saying why', async () => {
    const h = deliveryHarness()
    await h.engine.hold(ACCOUNT)
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(1_000)
    expect(await h.outbox.get(message.id)).toMatchObject({
      status: 'held',
      error: { code: 'REAUTHORIZATION_REQUIRED' },
    })
    expect(h.gmail.calls).toBe(0)
    await h.engine.release(ACCOUNT)
    await h.time.advance(0)
    expect(await h.statusOf(message.id)).toBe('sent')
  })

  it('turns a scheduled message held when its time comes while its account is held', async () => {
    const h = deliveryHarness()
    await h.engine.hold(ACCOUNT)
    const message = h.entry({ status: 'scheduled', sendAt: h.time.now() + 60_000 })
    await h.accept(message)
    await h.time.advance(30_000)
    expect(await h.statusOf(message.id)).toBe('scheduled')
    await h.time.advance(31_000)
    expect(await h.statusOf(message.id)).toBe('held')
    await h.engine.release(ACCOUNT)
    await h.time.advance(0)
    expect(await h.statusOf(message.id)).toBe('sent')
  })

  it('on start, sends held mail whose account is connected again', async () => {
    const h = deliveryHarness()
    const message = h.entry({ status: 'held' })
    await h.outbox.accept([{ entry: message, raw: new TextEncoder().encode('x') }])
    await h.engine.start()
    await h.time.advance(0)
    expect(await h.outbox.get(message.id)).toMatchObject({ status: 'sent', attempts: 1 })
  })

  it('does not hold the account again for an attempt begun before its reauthorization', async () => {
    const h = deliveryHarness({ concurrency: 2 })
    const send = h.gmail.send.bind(h.gmail)
    let failSlowSend: () => void = () => {}
    let calls = 0
    h.gmail.send = (request) => {
      calls++
      if (calls === 1) {
        return new Promise((_, reject) => {
          failSlowSend = () => reject(invalidGrant())
        })
      }
      return send(request)
    }
    h.gmail.failNext(invalidGrant())
    const [slow, quick] = [h.entry(), h.entry()]
    await h.accept(slow, quick)
    await h.time.advance(0)
    expect(await h.statusOf(quick.id)).toBe('held')
    expect(h.reauthorizations).toEqual([ACCOUNT])

    await h.engine.release(ACCOUNT)
    failSlowSend()
    await h.time.advance(1_000)
    expect(h.reauthorizations).toEqual([ACCOUNT])
    expect(await h.statusOf(slow.id)).toBe('sent')
    expect(await h.statusOf(quick.id)).toBe('sent')
  })

  it('counts the sends of the last 24 hours already stored against the daily budget', async () => {
    const h = deliveryHarness({ limits: { perMinute: 0, perDay: 2 } })
    const earlier = [h.entry(), h.entry()].map((entry) => ({
      ...entry,
      status: 'sent' as const,
      sentAt: h.time.now() - 3_600_000,
    }))
    for (const entry of earlier) {
      await h.outbox.accept([{ entry: { ...entry, status: 'queued' }, raw: new Uint8Array(1) }])
      await h.outbox.update(entry)
    }
    await h.engine.start()
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(22 * 3_600_000)
    expect(await h.statusOf(message.id)).toBe('queued')
    await h.time.advance(2 * 3_600_000)
    expect(await h.statusOf(message.id)).toBe('sent')
  })

  it('answers a caller at once when pacing puts the first attempt beyond the wait', async () => {
    const h = deliveryHarness({ limits: { perMinute: 1, perDay: 0 } })
    const [first, second] = [h.entry(), h.entry()]
    await h.accept(first, second)
    const outcome = await Promise.race([
      h.engine.waitForAttempt(second.id, 10_000).then(() => 'answered'),
      new Promise((resolve) => setTimeout(resolve, 2_000, 'still waiting')),
    ])
    expect(outcome).toBe('answered')
    expect(await h.statusOf(second.id)).toBe('queued')
  })
})
