/**
 * What every outbox promises about `oldestDueAge` (the metric of how late
 * delivery is): the age, by the store's clock, of the oldest message still
 * on its way out (queued, scheduled and due, or sending), counted from its
 * send time or its acceptance; held, finished and not-yet-due messages do
 * not count. Registered by `outboxContract` (outbox.contract.ts).
 */
import { expect, it } from 'vitest'
import type { OutboxUnderTest } from './outbox.contract.ts'
import { BOB, message } from './outbox-messages.ts'

const MINUTE = 60_000
const CAROL = 'carol@example.com'

export function outboxOverdueContract(current: () => OutboxUnderTest): void {
  it('measures the oldest due message from its send time; held, finished and future mail do not count', async () => {
    const outbox = current()
    expect(await outbox.oldestDueAge()).toBe(0)
    const now = await outbox.now()
    /** The age the store gives, checked to be `minutes` old as of some moment since `now`. */
    const expectAge = async (minutes: number) => {
      const age = await outbox.oldestDueAge()
      const after = await outbox.now()
      expect(age).toBeGreaterThanOrEqual(minutes * MINUTE - 1)
      expect(age).toBeLessThanOrEqual(minutes * MINUTE + (after - now) + 1)
    }

    await outbox.accept([
      await message('held', { at: now - 120 * MINUTE, connected: false }),
      await message('later', { at: now - 180 * MINUTE, sendAt: now + 60 * MINUTE }),
      await message('canceled', { at: now - 50 * MINUTE }),
      await message('queued', { at: now - 10 * MINUTE }),
    ])
    await outbox.change('canceled', () => ({ type: 'cancel' }))
    expect((await outbox.get('held'))?.status).toBe('held')
    await expectAge(10)

    // Scheduled for 25 minutes ago: late since its send time, not since its acceptance.
    await outbox.accept([
      await message('was-scheduled', { at: now - 30 * MINUTE, sendAt: now - 25 * MINUTE, account: CAROL }),
    ])
    await expectAge(25)

    // Sending counts (it has not gone out yet), until the outcome is recorded.
    await outbox.accept([await message('sending', { at: now - 45 * MINUTE, account: BOB })])
    const [claimed] = await outbox.claimDue({ owner: 'r1', account: BOB, leaseMs: MINUTE, limit: 1 })
    expect(claimed?.status).toBe('sending')
    await expectAge(45)
    await outbox.settle({
      owner: 'r1',
      id: 'sending',
      event: { type: 'sent', at: await outbox.now(), gmailMessageId: 'g-1', gmailThreadId: 't-1' },
    })
    await expectAge(25)

    // A failed attempt waiting for its retry is still late, from its acceptance.
    const [retried] = await outbox.claimDue({ owner: 'r1', account: CAROL, leaseMs: MINUTE, limit: 1 })
    expect(retried?.id).toBe('was-scheduled')
    await outbox.settle({
      owner: 'r1',
      id: 'was-scheduled',
      event: {
        type: 'retryLater',
        at: await outbox.now(),
        error: { code: 'GMAIL_UNAVAILABLE', message: 'Gmail answered 503' },
        nextAttemptAt: now + 10 * MINUTE,
      },
    })
    await expectAge(25)
  })
}
