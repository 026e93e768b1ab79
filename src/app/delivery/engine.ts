/**
 * The delivery engine: one lane per sending account, paced under Gmail's
 * quotas, retrying what can succeed later, holding what waits for the admin.
 * It is the only writer of live outbox entries once they are accepted.
 */
import { DAY_MS, nextSendTime, pruneSendTimes, sendWindows } from '../../domain/delivery/pacing.ts'
import { isFinished, type OutboxEntry } from '../../domain/mail/record.ts'
import { REAUTHORIZATION_ERROR } from '../../domain/mail/transition.ts'
import { attemptOutcome } from '../metrics.ts'
import { advance } from './advance.ts'
import { createControls } from './controls.ts'
import {
  dueWhileHeld,
  earliestStart,
  insertWaiting,
  type Lane,
  newLane,
  pickReady,
  removeWaiting,
} from './lane.ts'
import { sendRequestOf } from './message-body.ts'
import { createOutcomeRecorder } from './outcome-recorder.ts'
import { settleFailure } from './settle-failure.ts'
import { toFailure } from './to-failure.ts'
import type { DeliveryEngine, DeliveryOptions } from './types.ts'
import { createWaiters } from './waiters.ts'

export type { DeliveryEngine, DeliveryOptions } from './types.ts'

/** How often a lane stopped for want of free space looks again. */
const STORAGE_RECHECK_MS = 500

export function createDeliveryEngine(options: DeliveryOptions): DeliveryEngine {
  const { outbox, gmail, clock, scheduler, logger } = options
  const windows = sendWindows(options.limits)
  const lanes = new Map<string, Lane>()
  const live = new Map<string, OutboxEntry>()
  const waiters = createWaiters()
  /** The composed bytes `enqueue` was given, while it starts the message's attempt. */
  const handed = new Map<string, Uint8Array>()
  const storage = options.storage ?? { level: () => 'ok', writeFailed: () => {} }
  let stopping = false

  /**
   * The account's lane. A new one first loads the account's sends of the
   * last 24 hours, so that the daily budget (and the minute) outlive a
   * restart; it sends nothing until then.
   */
  const laneOf = (account: string): Lane => {
    let lane = lanes.get(account)
    if (!lane) {
      const created = newLane(account)
      lanes.set(account, created)
      created.loading = outbox
        .sentSince(account, clock.now() - DAY_MS)
        .then(
          // Nothing was sent meanwhile: the list is just these times, ascending.
          (times) => void created.sendTimes.push(...times),
          (caught) => {
            logger.error('Could not read past sends; pacing starts afresh', {
              account,
              error: toFailure(caught).message,
            })
          },
        )
        .finally(() => {
          delete created.loading
          pump(created)
        })
      lane = created
    }
    return lane
  }

  const persist = async (entry: OutboxEntry): Promise<void> => {
    entry.updatedAt = Math.max(clock.now(), entry.updatedAt + 1)
    await outbox.update({ ...entry, attemptLog: [...entry.attemptLog] })
  }

  const recorder = createOutcomeRecorder({
    persist,
    scheduler,
    logger,
    onWriteFailed: () => storage.writeFailed(),
    onLaneResumed: (lane) => pump(lane),
  })

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

  /** Marks what a held lane would otherwise send as held, so that callers see why it waits. */
  const holdDue = (lane: Lane, now: number): Promise<void> => {
    const due = dueWhileHeld(lane, now)
    for (const entry of due) advance(entry, { type: 'hold' })
    return Promise.all(due.map((entry) => persist(entry))).then(() => undefined)
  }

  const pump = (lane: Lane): void => {
    if (stopping || lane.loading) return
    const now = clock.now()
    if (lane.held) {
      holdDue(lane, now).catch((caught) =>
        logger.error('Could not record held mail', {
          account: lane.account,
          error: toFailure(caught).message,
        }),
      )
    }
    // Stopped until its last outcome is on disk: the recorder pumps the lane again then.
    if (lane.unrecorded > 0) return
    pruneSendTimes(lane.sendTimes, now, windows)
    while (lane.inFlight < options.concurrency) {
      const { ready, wakeAt } = pickReady(lane, now)
      if (!ready) {
        arm(lane, wakeAt)
        return
      }
      if (storage.level() === 'critical') {
        // The space left is kept for the outcomes of the sends in flight.
        arm(lane, now + STORAGE_RECHECK_MS)
        return
      }
      const slot = nextSendTime(lane.sendTimes, now, windows)
      if (slot > now) {
        if (ready.status === 'scheduled') advance(ready, { type: 'due' })
        arm(lane, slot)
        return
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

  const attempt = async (lane: Lane, entry: OutboxEntry): Promise<void> => {
    const releases = lane.releases
    // Taken before the first await: only an attempt that `enqueue` starts at once gets it.
    const composed = handed.get(entry.id)
    handed.delete(entry.id)
    advance(entry, { type: 'claim' })
    logger.debug('Delivery attempt', { id: entry.id, account: entry.account, attempt: entry.attempts })
    let report: () => void
    // Marking it `sending` is for the console; a crash before or after that write
    // resumes the message all the same, so the send does not wait for the disk.
    const marked = persist(entry).catch((caught) => {
      storage.writeFailed()
      logger.warn('Could not mark a message as sending', { id: entry.id, error: toFailure(caught).message })
    })
    try {
      const request = await sendRequestOf(entry, { outbox, largeBodies: options.largeBodies }, composed)
      const sent = await gmail.send(request)
      advance(entry, { type: 'sent', at: clock.now(), gmailMessageId: sent.id, gmailThreadId: sent.threadId })
      report = () =>
        logger.info('Message sent', { id: entry.id, account: entry.account, attempts: entry.attempts })
    } catch (caught) {
      report = afterFailure(lane, entry, caught, releases)
    }
    await marked
    // Until the outcome is on disk the live copy stays, so that lookups tell the truth;
    // a caller waiting for the attempt hears of it at once even when the write is stuck.
    const recorded = await recorder.record(lane, entry, () => waiters.resolve(entry.id, entry))
    if (recorded && isFinished(entry.status)) live.delete(entry.id)
    // Logged once recorded: the outcome line means the attempt is over, on disk included.
    if (recorded) {
      report()
      const outcome = attemptOutcome(entry.status)
      if (outcome !== undefined) options.metrics?.messageOutcome(outcome)
    }
    waiters.resolve(entry.id, entry)
  }

  /** Applies a failed attempt's outcome; returns how to log it once it is recorded. */
  const afterFailure = (
    lane: Lane,
    entry: OutboxEntry,
    caught: unknown,
    releasesAtStart: number,
  ): (() => void) => {
    const now = clock.now()
    const outcome = settleFailure(entry, toFailure(caught), {
      now,
      giveUpAfterMs: options.giveUpAfterMs,
      random: options.random,
      backoff: options.backoff,
      reauthorizedSince: lane.releases !== releasesAtStart && !lane.held,
    })
    const fields = { id: entry.id, account: entry.account, code: entry.error?.code }
    if (outcome === 'fail') return () => logger.warn('Delivery failed', fields)
    insertWaiting(lane, entry)
    if (outcome === 'retry') {
      const retryInMs = (entry.nextAttemptAt ?? now) - now
      return () => logger.warn('Delivery will be retried', { ...fields, retryInMs })
    }
    if (!lane.held) {
      // Hold at once: every other attempt would meet the same refusal.
      lane.held = true
      logger.warn('Account needs reauthorization; its mail is held', { account: entry.account })
      options.onReauthorizationRequired(entry.account, entry.error ?? REAUTHORIZATION_ERROR)
    }
    return () => logger.info('Delivery held until reauthorization', fields)
  }

  const controls = createControls({
    live,
    laneOf,
    persist,
    pump,
    holdDue,
    clock,
    waiters,
    outbox,
    recording: (id) => recorder.isPending(id),
  })

  return {
    async start() {
      const pending = await outbox.pending()
      const released: OutboxEntry[] = []
      for (const entry of pending) {
        // A send cut short by a crash may or may not have reached Gmail: delivery is at-least-once.
        if (entry.status === 'sending') advance(entry, { type: 'resume' })
        const lane = laneOf(entry.account)
        if (entry.status === 'held' && !lane.held) {
          // Its account was reauthorized, but the release did not reach the disk before the stop.
          advance(entry, { type: 'release', at: clock.now() })
          released.push(entry)
        }
        live.set(entry.id, entry)
        insertWaiting(lane, entry)
      }
      await Promise.all(released.map((entry) => persist(entry)))
      await Promise.all([...lanes.values()].map((lane) => lane.loading))
      for (const lane of lanes.values()) pump(lane)
      if (pending.length > 0) logger.info('Resumed pending mail', { count: pending.length })
    },

    enqueue(entry, body) {
      live.set(entry.id, entry)
      const lane = laneOf(entry.account)
      insertWaiting(lane, entry)
      // The composed bytes go to an attempt that starts now, and are not kept for a later one.
      if (body !== undefined) handed.set(entry.id, body)
      pump(lane)
      handed.delete(entry.id)
    },

    async waitForAttempt(id, ms) {
      const accepted = live.get(id)
      if (!accepted || ms <= 0) return undefined
      const lane = laneOf(accepted.account)
      if (lane.loading) await lane.loading
      const entry = live.get(id)
      if (!entry || (entry.status !== 'queued' && entry.status !== 'sending') || stopping) return undefined
      if (entry.status === 'queued') {
        // Paced (or backing off) beyond the wait: answer now rather than wait for nothing.
        const now = clock.now()
        if (earliestStart(lane, id, now, windows, now + ms) > now + ms) return undefined
      }
      return waiters.wait(id, ms)
    },

    ...controls,

    live: (id) => live.get(id),

    stuckAccounts: () => recorder.stuckAccounts(),

    async stop(deadlineMs) {
      stopping = true
      for (const lane of lanes.values()) lane.cancelTimer?.()
      // Callers waiting for a first attempt that will not come now hear at once that it is queued (and stored).
      for (const entry of live.values()) if (entry.status !== 'sending') waiters.resolve(entry.id)
      const until = Date.now() + deadlineMs
      while ([...lanes.values()].some((lane) => lane.inFlight > 0) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      // Outcomes still not on disk are given up (and logged): those messages may go out again.
      recorder.stop()
    },
  }
}
