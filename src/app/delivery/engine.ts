/**
 * The delivery engine: one lane per sending account, paced under Gmail's
 * quotas, retrying what can succeed later, holding what waits for the admin.
 * It is the only writer of live outbox entries once they are accepted.
 */
import { decideAfterFailure } from '../../domain/delivery/after-failure.ts'
import {
  DAY_MS,
  nextSendTime,
  type PacingLimits,
  pruneSendTimes,
  sendWindows,
} from '../../domain/delivery/pacing.ts'
import { ServiceError } from '../../domain/errors.ts'
import type { DeliveryAttempt, OutboxEntry, RecordedError } from '../../domain/mail/record.ts'
import type { Clock, GmailPort, OutboxRepository } from '../../domain/ports.ts'
import type { Logger } from '../logger.ts'
import type { Scheduler } from '../scheduler.ts'
import { insertWaiting, type Lane, newLane, pickReady, removeWaiting } from './lane.ts'
import { toFailure } from './to-failure.ts'
import { createWaiters } from './waiters.ts'

export interface DeliveryOptions {
  outbox: OutboxRepository
  gmail: GmailPort
  clock: Clock
  scheduler: Scheduler
  random: () => number
  logger: Logger
  limits: PacingLimits
  /** Sends in flight at once per account. */
  concurrency: number
  giveUpAfterMs: number
  /** Called when Google refused an account's refresh token. */
  onReauthorizationRequired: (account: string, error: RecordedError) => void
}

export interface DeliveryEngine {
  /** Loads every live message from the outbox and starts delivering. */
  start(): Promise<void>
  /** Takes a newly accepted (already durable) message. */
  enqueue(entry: OutboxEntry): void
  /** Resolves after the message's first attempt, or after `ms`, whichever is first. */
  waitForAttempt(id: string, ms: number): Promise<void>
  /** Cancels a queued, scheduled or held message. */
  cancel(id: string): Promise<OutboxEntry>
  /** Puts a failed message back in the queue. */
  retry(id: string): Promise<OutboxEntry>
  /** Stops sending for an account until `release`; its queued messages turn held. */
  hold(account: string): Promise<void>
  /** Sends an account's held messages again, in their order. */
  release(account: string): Promise<number>
  /** The live copy of a message, if the engine holds it. */
  live(id: string): OutboxEntry | undefined
  /** Stops taking new work and waits for sends in flight, up to `deadlineMs`. */
  stop(deadlineMs: number): Promise<void>
}

export function createDeliveryEngine(options: DeliveryOptions): DeliveryEngine {
  const { outbox, gmail, clock, scheduler, logger } = options
  const windows = sendWindows(options.limits)
  const lanes = new Map<string, Lane>()
  const live = new Map<string, OutboxEntry>()
  const waiters = createWaiters()
  let stopping = false

  const laneOf = (account: string): Lane => {
    let lane = lanes.get(account)
    if (!lane) {
      lane = newLane(account)
      lanes.set(account, lane)
    }
    return lane
  }

  const persist = async (entry: OutboxEntry): Promise<void> => {
    entry.updatedAt = Math.max(clock.now(), entry.updatedAt + 1)
    await outbox.update({ ...entry, attemptLog: [...entry.attemptLog] })
  }

  const arm = (lane: Lane, wakeAt: number): void => {
    if (!Number.isFinite(wakeAt) || stopping) return
    if (lane.timerAt !== undefined && lane.timerAt <= wakeAt) return
    lane.cancelTimer?.()
    lane.timerAt = wakeAt
    lane.cancelTimer = scheduler.after(Math.max(0, wakeAt - clock.now()), () => {
      delete lane.timerAt
      delete lane.cancelTimer
      pump(lane)
    })
  }

  const pump = (lane: Lane): void => {
    if (stopping) return
    const now = clock.now()
    pruneSendTimes(lane.sendTimes, now, windows)
    while (lane.inFlight < options.concurrency) {
      const { ready, wakeAt } = pickReady(lane, now)
      if (!ready) return arm(lane, wakeAt)
      const slot = nextSendTime(lane.sendTimes, now, windows)
      if (slot > now) {
        if (ready.status === 'scheduled') ready.status = 'queued'
        return arm(lane, slot)
      }
      lane.sendTimes.push(now)
      removeWaiting(lane, ready.id)
      lane.inFlight++
      void attempt(lane, ready).finally(() => {
        lane.inFlight--
        pump(lane)
      })
    }
  }

  const record = (entry: OutboxEntry, item: DeliveryAttempt): void => {
    entry.attemptLog.push(item)
    if (entry.attemptLog.length > 50) entry.attemptLog.splice(1, entry.attemptLog.length - 50)
  }

  const attempt = async (lane: Lane, entry: OutboxEntry): Promise<void> => {
    entry.status = 'sending'
    entry.attempts++
    delete entry.nextAttemptAt
    try {
      await persist(entry)
      const raw = await outbox.readRaw(entry.id)
      const request: { account: string; raw: Uint8Array; threadId?: string } = { account: entry.account, raw }
      if (entry.threadId !== undefined) request.threadId = entry.threadId
      const sent = await gmail.send(request)
      const now = clock.now()
      entry.status = 'sent'
      entry.sentAt = now
      entry.gmailMessageId = sent.id
      entry.gmailThreadId = sent.threadId
      delete entry.error
      record(entry, { at: now, outcome: 'sent' })
      live.delete(entry.id)
      logger.info('Message sent', { id: entry.id, account: entry.account, attempts: entry.attempts })
    } catch (caught) {
      settleFailure(lane, entry, toFailure(caught))
    }
    try {
      await persist(entry)
    } catch (caught) {
      logger.error('Could not record a delivery outcome', { id: entry.id, error: toFailure(caught).message })
    }
    waiters.resolve(entry.id)
  }

  const settleFailure = (lane: Lane, entry: OutboxEntry, failure: ReturnType<typeof toFailure>): void => {
    const now = clock.now()
    const error: RecordedError = { code: failure.code, message: failure.message }
    const since = Math.max(
      entry.createdAt,
      entry.sendAt ?? 0,
      ...entry.attemptLog.filter((item) => item.outcome === 'released').map((item) => item.at),
    )
    const decision = decideAfterFailure(failure, {
      attempts: entry.attempts,
      since,
      now,
      giveUpAfterMs: options.giveUpAfterMs,
      random: options.random,
    })
    entry.error = error
    if (decision.kind === 'retry') {
      entry.status = 'queued'
      entry.nextAttemptAt = decision.at
      record(entry, { at: now, outcome: 'retry', error })
      insertWaiting(lane, entry)
      logger.warn('Delivery will be retried', {
        id: entry.id,
        code: error.code,
        retryInMs: decision.at - now,
      })
    } else if (decision.kind === 'hold') {
      entry.status = 'held'
      record(entry, { at: now, outcome: 'held', error })
      insertWaiting(lane, entry)
      if (!lane.held) {
        logger.warn('Account needs reauthorization; its mail is held', { account: entry.account })
        options.onReauthorizationRequired(entry.account, error)
      }
    } else {
      entry.status = 'failed'
      record(entry, { at: now, outcome: 'failed', error })
      live.delete(entry.id)
      logger.warn('Delivery failed', { id: entry.id, code: error.code })
    }
  }

  const take = (id: string): { lane: Lane; entry: OutboxEntry } | undefined => {
    const entry = live.get(id)
    if (!entry) return undefined
    return { lane: laneOf(entry.account), entry }
  }

  return {
    async start() {
      const pending = await outbox.pending()
      const now = clock.now()
      const accounts = new Set(pending.map((entry) => entry.account))
      for (const account of accounts) {
        laneOf(account).sendTimes.push(...(await outbox.sentSince(account, now - DAY_MS)))
      }
      for (const entry of pending) {
        // A send cut short by a crash may or may not have reached Gmail: delivery is at-least-once.
        if (entry.status === 'sending') entry.status = 'queued'
        live.set(entry.id, entry)
        insertWaiting(laneOf(entry.account), entry)
      }
      for (const lane of lanes.values()) pump(lane)
      if (pending.length > 0) logger.info('Resumed pending mail', { count: pending.length })
    },

    enqueue(entry) {
      live.set(entry.id, entry)
      const lane = laneOf(entry.account)
      insertWaiting(lane, entry)
      pump(lane)
    },

    async waitForAttempt(id, ms) {
      const entry = live.get(id)
      if (!entry || (entry.status !== 'queued' && entry.status !== 'sending') || ms <= 0) return
      await waiters.wait(id, ms)
    },

    async cancel(id) {
      const found = take(id)
      if (!found) {
        const stored = await outbox.get(id)
        if (!stored) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
        throw new ServiceError(
          'BAD_REQUEST',
          `The message is ${stored.status}; only a queued, scheduled or held message can be canceled`,
        )
      }
      const { lane, entry } = found
      if (entry.status === 'sending') {
        throw new ServiceError(
          'BAD_REQUEST',
          'The message is being sent; only a queued, scheduled or held message can be canceled',
        )
      }
      removeWaiting(lane, id)
      live.delete(id)
      entry.status = 'canceled'
      delete entry.nextAttemptAt
      await persist(entry)
      waiters.resolve(id)
      return entry
    },

    async retry(id) {
      const stored = live.get(id) ?? (await outbox.get(id))
      if (!stored) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
      if (stored.status !== 'failed') {
        throw new ServiceError(
          'BAD_REQUEST',
          `The message is ${stored.status}; only a failed message can be retried`,
        )
      }
      const lane = laneOf(stored.account)
      const entry: OutboxEntry = {
        ...stored,
        status: lane.held ? 'held' : 'queued',
        attemptLog: [...stored.attemptLog],
      }
      delete entry.nextAttemptAt
      record(entry, { at: clock.now(), outcome: 'released' })
      await persist(entry)
      live.set(id, entry)
      insertWaiting(lane, entry)
      pump(lane)
      return entry
    },

    async hold(account) {
      const lane = laneOf(account)
      lane.held = true
      const changed = lane.waiting.filter((entry) => entry.status === 'queued')
      for (const entry of changed) entry.status = 'held'
      await Promise.all(changed.map((entry) => persist(entry)))
    },

    async release(account) {
      const lane = laneOf(account)
      lane.held = false
      const now = clock.now()
      const changed = lane.waiting.filter((entry) => entry.status === 'held')
      for (const entry of changed) {
        entry.status = 'queued'
        delete entry.nextAttemptAt
        record(entry, { at: now, outcome: 'released' })
      }
      await Promise.all(changed.map((entry) => persist(entry)))
      pump(lane)
      return changed.length
    },

    live: (id) => live.get(id),

    async stop(deadlineMs) {
      stopping = true
      for (const lane of lanes.values()) lane.cancelTimer?.()
      const until = Date.now() + deadlineMs
      while ([...lanes.values()].some((lane) => lane.inFlight > 0) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
  }
}
