import { describe, expect, it } from 'vitest'
import { invalidGrant, rateLimited, rejected, unavailable } from '../fakes/gmail.ts'
import { deliveryHarness } from './delivery-harness.ts'

describe('delivery engine', () => {
  it('sends a queued message at once and records Gmail ids', async () => {
    const h = deliveryHarness()
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(0)
    const stored = await h.outbox.get(message.id)
    expect(stored).toMatchObject({
      status: 'sent',
      attempts: 1,
      gmailMessageId: 'gm-1',
      gmailThreadId: 'th-gm-1',
    })
    expect(h.gmail.sent).toHaveLength(1)
  })

  it('retries a rate-limited send after the Retry-After and then sends it', async () => {
    const h = deliveryHarness()
    h.gmail.failNext(rateLimited(30_000))
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(0)
    expect(await h.outbox.get(message.id)).toMatchObject({
      status: 'queued',
      attempts: 1,
      error: { code: 'GMAIL_RATE_LIMITED' },
    })
    await h.time.advance(29_000)
    expect(h.gmail.sent).toHaveLength(0)
    await h.time.advance(1_500)
    expect(await h.outbox.get(message.id)).toMatchObject({ status: 'sent', attempts: 2 })
  })

  it('keeps retrying 5xx answers with backoff until one succeeds', async () => {
    const h = deliveryHarness()
    h.gmail.failNext(unavailable(), unavailable(), unavailable())
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(60_000)
    const stored = await h.outbox.get(message.id)
    expect(stored).toMatchObject({ status: 'sent', attempts: 4 })
    expect(stored?.attemptLog.map((item) => item.outcome)).toEqual(['retry', 'retry', 'retry', 'sent'])
  })

  it('fails a message Gmail rejects, without retrying', async () => {
    const h = deliveryHarness()
    h.gmail.failNext(rejected())
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(600_000)
    expect(await h.outbox.get(message.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'GMAIL_REJECTED' },
    })
    expect(h.gmail.calls).toBe(1)
  })

  it('gives up with failed after the configured time of retryable errors', async () => {
    const h = deliveryHarness({ giveUpAfterMs: 60_000 })
    h.gmail.failNext(...Array.from({ length: 50 }, unavailable))
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(10 * 60_000)
    expect(await h.outbox.get(message.id)).toMatchObject({
      status: 'failed',
      error: { code: 'GMAIL_UNAVAILABLE' },
    })
  })

  it('holds the rest of an account’s mail on invalid_grant and sends it all, in order, once released', async () => {
    const h = deliveryHarness({ concurrency: 1 })
    h.gmail.failNext(invalidGrant())
    const messages = [h.entry(), h.entry(), h.entry()]
    await h.accept(...messages)
    await h.time.advance(1_000)
    expect(h.reauthorizations).toEqual(['support@example.com'])
    for (const message of messages) expect(await h.statusOf(message.id)).toBe('held')
    const late = h.entry()
    await h.accept({ ...late, status: 'held' })
    await h.time.advance(3_600_000)
    expect(h.gmail.sent).toHaveLength(0)

    expect(await h.engine.release('support@example.com')).toBe(4)
    await h.time.advance(1_000)
    expect(h.gmail.sent.map((item) => item.raw.split('\r\n')[0])).toEqual([
      'Subject: Message 1',
      'Subject: Message 2',
      'Subject: Message 3',
      'Subject: Message 4',
    ])
  })

  it('sends a scheduled message at its time, not before', async () => {
    const h = deliveryHarness()
    const message = h.entry({ status: 'scheduled', sendAt: h.time.now() + 3_600_000 })
    await h.accept(message)
    await h.time.advance(3_599_000)
    expect(await h.statusOf(message.id)).toBe('scheduled')
    await h.time.advance(2_000)
    expect(await h.statusOf(message.id)).toBe('sent')
  })

  it('cancels a scheduled message so that it never goes out', async () => {
    const h = deliveryHarness()
    const message = h.entry({ status: 'scheduled', sendAt: h.time.now() + 60_000 })
    await h.accept(message)
    const canceled = await h.engine.cancel(message.id)
    expect(canceled.status).toBe('canceled')
    await h.time.advance(120_000)
    expect(h.gmail.calls).toBe(0)
    expect(await h.statusOf(message.id)).toBe('canceled')
  })

  it('refuses to cancel a sent message', async () => {
    const h = deliveryHarness()
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(0)
    await expect(h.engine.cancel(message.id)).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('retries a failed message when asked', async () => {
    const h = deliveryHarness()
    h.gmail.failNext(rejected())
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(0)
    expect(await h.statusOf(message.id)).toBe('failed')
    await h.engine.retry(message.id)
    await h.time.advance(0)
    expect(await h.outbox.get(message.id)).toMatchObject({ status: 'sent', attempts: 2 })
  })

  it('paces a burst so that no minute holds more than the quota', async () => {
    const h = deliveryHarness({ limits: { perMinute: 30, perDay: 0 }, concurrency: 8 })
    const sendTimes: number[] = []
    const send = h.gmail.send.bind(h.gmail)
    h.gmail.send = async (request) => {
      sendTimes.push(h.time.now())
      return send(request)
    }
    await h.accept(...Array.from({ length: 90 }, () => h.entry()))
    await h.time.advance(4 * 60_000)
    expect(sendTimes).toHaveLength(90)
    for (let i = 30; i < sendTimes.length; i++)
      expect(sendTimes[i]! - sendTimes[i - 30]!).toBeGreaterThan(60_000)
  })

  it('resumes pending and interrupted messages on start', async () => {
    const h = deliveryHarness()
    const queued = h.entry()
    const interrupted = h.entry({ status: 'sending', attempts: 1 })
    await h.outbox.accept(
      [queued, interrupted].map((entry) => ({ entry, raw: new TextEncoder().encode('x') })),
    )
    await h.engine.start()
    await h.time.advance(0)
    expect(await h.statusOf(queued.id)).toBe('sent')
    expect(await h.outbox.get(interrupted.id)).toMatchObject({ status: 'sent', attempts: 2 })
  })
})
