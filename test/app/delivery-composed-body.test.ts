import { describe, expect, it } from 'vitest'
import { unavailable } from '../fakes/gmail.ts'
import { deliveryHarness } from './delivery-harness.ts'

/** The harness with its store's body reads counted. */
function countingReads(options: Parameters<typeof deliveryHarness>[0] = {}) {
  const h = deliveryHarness(options)
  const reads: string[] = []
  const readRaw = h.outbox.readRaw.bind(h.outbox)
  h.outbox.readRaw = (id) => {
    reads.push(id)
    return readRaw(id)
  }
  const body = (subject: string) => new TextEncoder().encode(`Subject: ${subject}\r\n\r\nx`)
  const acceptWithBody = async (entry: ReturnType<typeof h.entry>) => {
    const raw = body(entry.subject)
    await h.outbox.accept([{ entry, raw }])
    h.engine.enqueue(entry, raw)
  }
  /** The account's first message: its lane loads the past sends first, so that one is read back. */
  const warmUp = async () => {
    const first = h.entry()
    await acceptWithBody(first)
    await h.time.advance(0)
    reads.length = 0
    h.gmail.sent.length = 0
    return first
  }
  return { ...h, reads, acceptWithBody, warmUp }
}

describe('delivery engine, handed the composed bytes', () => {
  it('sends them on the first attempt without reading the stored body back', async () => {
    const h = countingReads()
    await h.warmUp()
    const message = h.entry()
    await h.acceptWithBody(message)
    await h.time.advance(0)
    expect(await h.statusOf(message.id)).toBe('sent')
    expect(h.gmail.sent.map((sent) => sent.raw)).toEqual([`Subject: ${message.subject}\r\n\r\nx`])
    expect(h.reads).toEqual([])
  })

  it('reads the stored body (and so checks it) for a retry', async () => {
    const h = countingReads()
    await h.warmUp()
    h.gmail.failNext(unavailable())
    const message = h.entry()
    await h.acceptWithBody(message)
    await h.time.advance(60_000)
    expect(await h.statusOf(message.id)).toBe('sent')
    expect(h.reads).toEqual([message.id])
  })

  it('keeps nothing for a message whose attempt does not start at once', async () => {
    const h = countingReads({ limits: { perMinute: 1, perDay: 0 } })
    await h.warmUp()
    // The minute's one send went to the warm-up: this one waits for the next minute.
    const paced = h.entry()
    await h.acceptWithBody(paced)
    await h.time.advance(0)
    expect(await h.statusOf(paced.id)).toBe('queued')
    for (let second = 0; second < 70; second++) await h.time.advance(1_000)
    expect(await h.statusOf(paced.id)).toBe('sent')
    expect(h.reads).toEqual([paced.id])
  })
})
