import { describe, expect, it } from 'vitest'
import type { StorageLevel } from '../../src/app/storage-guard.ts'
import { storageFull } from '../../src/domain/errors.ts'
import type { MailStatus } from '../../src/domain/mail/record.ts'
import { rejected } from '../fakes/gmail.ts'
import { deliveryHarness } from './delivery-harness.ts'

type Harness = ReturnType<typeof deliveryHarness>

/** The outbox refuses to record `status` for the next `times` writes, as a full disk would. */
function failOutcomeWrites(h: Harness, status: MailStatus, times: number) {
  const update = h.outbox.update.bind(h.outbox)
  let left = times
  h.outbox.update = async (entry) => {
    if (entry.status === status && left > 0) {
      left--
      throw storageFull(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }))
    }
    return update(entry)
  }
  return { left: () => left }
}

describe('delivery when an outcome cannot be recorded', () => {
  it('stops the account’s lane, keeps writing the outcome, and resumes without sending anything twice', async () => {
    const h = deliveryHarness({ concurrency: 1 })
    const writes = failOutcomeWrites(h, 'sent', 4)
    const first = h.entry()
    const second = h.entry()
    await h.accept(first, second)
    await h.time.advance(0)

    // Gmail has the first message; the disk still says it is on its way.
    expect(h.gmail.sent).toHaveLength(1)
    expect(await h.statusOf(first.id)).toBe('sending')
    expect(h.engine.live(first.id)).toMatchObject({ status: 'sent', gmailMessageId: 'gm-1' })
    expect(h.engine.stuckAccounts()).toEqual(['support@example.com'])

    // Retries after 100, 200 and 400 ms fail too; the lane stays stopped meanwhile.
    await h.time.advance(750)
    expect(writes.left()).toBe(0)
    expect(await h.statusOf(first.id)).toBe('sending')
    expect(h.gmail.sent).toHaveLength(1)
    expect(await h.statusOf(second.id)).toBe('queued')

    // The next retry (800 ms later) writes it, and the lane goes on.
    await h.time.advance(800)
    expect(await h.outbox.get(first.id)).toMatchObject({
      status: 'sent',
      gmailMessageId: 'gm-1',
      attempts: 1,
    })
    expect(await h.statusOf(second.id)).toBe('sent')
    expect(h.engine.stuckAccounts()).toEqual([])
    expect(h.gmail.sent.map((item) => item.raw.split('\r\n')[0])).toEqual([
      `Subject: ${first.subject}`,
      `Subject: ${second.subject}`,
    ])
  })

  it('keeps the other accounts sending while one lane is stopped', async () => {
    const h = deliveryHarness()
    failOutcomeWrites(h, 'sent', 1)
    const stuck = h.entry()
    await h.accept(stuck)
    await h.time.advance(0)
    expect(h.engine.stuckAccounts()).toEqual(['support@example.com'])

    const other = h.entry({ account: 'sales@example.com', from: 'sales@example.com' })
    await h.accept(other)
    await h.time.advance(0)
    expect(await h.statusOf(other.id)).toBe('sent')
    await h.time.advance(100)
    expect(await h.statusOf(stuck.id)).toBe('sent')
    expect(h.gmail.sent).toHaveLength(2)
  })

  it('refuses to retry or cancel a failed message whose failure is not yet recorded', async () => {
    const h = deliveryHarness()
    failOutcomeWrites(h, 'failed', 2)
    h.gmail.failNext(rejected())
    const message = h.entry()
    await h.accept(message)
    await h.time.advance(0)
    expect(h.engine.live(message.id)).toMatchObject({ status: 'failed', error: { code: 'GMAIL_REJECTED' } })
    await expect(h.engine.retry(message.id)).rejects.toMatchObject({ code: 'CONFLICT' })
    await expect(h.engine.cancel(message.id)).rejects.toMatchObject({ code: 'BAD_REQUEST' })

    await h.time.advance(300)
    expect(await h.statusOf(message.id)).toBe('failed')
    expect(h.engine.live(message.id)).toBeUndefined()
    await h.engine.retry(message.id)
    await h.time.advance(0)
    expect(await h.statusOf(message.id)).toBe('sent')
    expect(h.gmail.calls).toBe(2)
  })
})

describe('delivery under the free-space margin', () => {
  it('starts no send while space is critical, goes on while it is only low, and resumes when space is back', async () => {
    let level: StorageLevel = 'critical'
    const h = deliveryHarness({ storage: { level: () => level, writeFailed: () => {} } })
    const first = h.entry()
    await h.accept(first)
    await h.time.advance(2_000)
    expect(h.gmail.calls).toBe(0)
    expect(await h.statusOf(first.id)).toBe('queued')

    level = 'low'
    await h.time.advance(500)
    expect(await h.statusOf(first.id)).toBe('sent')

    level = 'critical'
    const second = h.entry()
    await h.accept(second)
    await h.time.advance(1_000)
    expect(await h.statusOf(second.id)).toBe('queued')
    level = 'ok'
    await h.time.advance(500)
    expect(await h.statusOf(second.id)).toBe('sent')
    expect(h.gmail.sent).toHaveLength(2)
  })
})
