/**
 * What callers and the admin do to accepted messages: cancel, retry, and
 * holding or releasing an account's mail around a reauthorization.
 */
import { ServiceError } from '../../domain/errors.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { assertMove, refusal, transition } from '../../domain/mail/transition.ts'
import type { Clock, OutboxRepository } from '../../domain/ports.ts'
import { advance } from './advance.ts'
import { insertWaiting, type Lane, removeWaiting } from './lane.ts'
import type { Waiters } from './waiters.ts'

/** The engine's state and steps that the controls work with. */
export interface EngineCore {
  live: Map<string, OutboxEntry>
  laneOf(account: string): Lane
  persist(entry: OutboxEntry): Promise<void>
  pump(lane: Lane): void
  holdDue(lane: Lane, now: number): Promise<void>
  clock: Clock
  waiters: Waiters
  outbox: OutboxRepository
  /** Whether an outcome of the message is still being written (see `outcome-recorder.ts`). */
  recording(id: string): boolean
}

export interface DeliveryControls {
  /** Cancels a queued, scheduled or held message. */
  cancel(id: string): Promise<OutboxEntry>
  /** Puts a failed message back in the queue. */
  retry(id: string): Promise<OutboxEntry>
  /** Stops sending for an account until `release`; its waiting messages turn held. */
  hold(account: string): Promise<void>
  /** Sends an account's held messages again, in their order; returns how many. */
  release(account: string): Promise<number>
}

export function createControls(core: EngineCore): DeliveryControls {
  const { live, laneOf, persist, pump, clock, waiters, outbox } = core
  return {
    async cancel(id) {
      const entry = live.get(id)
      if (!entry) {
        const stored = await outbox.get(id)
        if (!stored) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
        // Not live: finished (or being canceled); the engine no longer moves it.
        throw refusal(stored.status, 'cancel')
      }
      const lane = laneOf(entry.account)
      // Refused while being sent, or finished with its outcome not yet on disk.
      advance(entry, { type: 'cancel' })
      removeWaiting(lane, id)
      live.delete(id)
      await persist(entry)
      waiters.resolve(id)
      return entry
    },

    async retry(id) {
      const stored = live.get(id) ?? (await outbox.get(id))
      if (!stored) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
      assertMove(stored.status, 'adminRetry')
      if (core.recording(id)) {
        throw new ServiceError(
          'CONFLICT',
          'The outcome of the message’s last attempt is still being recorded; retry once storage recovers',
          { retryable: true },
        )
      }
      const lane = laneOf(stored.account)
      // A new object, not `advance`: the failed one may still be held by the attempt that just ended.
      const entry = transition(stored, { type: 'adminRetry', at: clock.now(), held: lane.held })
      await persist(entry)
      live.set(id, entry)
      insertWaiting(lane, entry)
      pump(lane)
      return entry
    },

    async hold(account) {
      const lane = laneOf(account)
      lane.held = true
      await core.holdDue(lane, clock.now())
    },

    async release(account) {
      const lane = laneOf(account)
      lane.held = false
      lane.releases++
      const now = clock.now()
      const changed = lane.waiting.filter((entry) => entry.status === 'held')
      for (const entry of changed) advance(entry, { type: 'release', at: now })
      await Promise.all(changed.map((entry) => persist(entry)))
      pump(lane)
      return changed.length
    },
  }
}
