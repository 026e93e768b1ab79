/**
 * One replica's attempts at the messages it claimed: wait for the fleet's
 * send slot, send, and record the outcome while the claim still stands.
 * The claims in hand are renewed together (`renewAll`); one lost (its lease
 * expired and another replica took the message over) is not sent, and an
 * outcome that finds its claim gone is dropped with a warning, never
 * written over the new owner's work.
 *
 * An outcome that cannot be written (the database is unreachable) is tried
 * again with backoff until it is, its account sending nothing new
 * meanwhile; the claim is renewed all along, so nobody else resends it.
 */

import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { MailEvent } from '../../domain/mail/transition.ts'
import { attemptOutcome } from '../metrics.ts'
import type { FleetEngineOptions } from './fleet-options.ts'
import { sendRequestOf } from './message-body.ts'
import { OUTCOME_RETRY } from './outcome-recorder.ts'
import { failureEvent } from './settle-failure.ts'
import { toFailure } from './to-failure.ts'

export interface FleetAttemptOptions extends FleetEngineOptions {
  leaseMs: number
  isHeld(account: string): boolean
  /** Counts the account's releases, so that a failure of an attempt begun before one is seen as stale. */
  releasesOf(account: string): number
  isStopping(): boolean
  /** The account's refresh token was refused: hold it (on every replica, through the store). */
  onHold(account: string): void
  /** The message's attempt is over (recorded, dropped or given back): `entry` as stored then, if known. */
  onSettled(id: string, entry?: OutboxEntry): void
}

export interface FleetAttempts {
  /** `composed`: the message's bytes, when the claim's replica has just composed them. */
  run(entry: OutboxEntry, composed?: Uint8Array): Promise<void>
  has(id: string): boolean
  /**
   * When the claimed message `id` may go, once the fleet's quota has said
   * (undefined when it is not in hand here, or will not go now).
   */
  slotOf(id: string): Promise<number | undefined>
  live(id: string): OutboxEntry | undefined
  renewAll(): Promise<void>
  stuckAccounts(): string[]
  stop(): void
}

export function createFleetAttempts(options: FleetAttemptOptions): FleetAttempts {
  const { outbox, quota, gmail, clock, scheduler, logger, owner } = options
  const active = new Map<string, OutboxEntry>()
  const slots = new Map<string, Promise<number | undefined>>()
  const lost = new Set<string>()
  const stuck = new Map<string, number>()
  const cancels = new Set<() => void>()
  let stopped = false

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || stopped) return resolve()
      const cancel = scheduler.after(ms, () => {
        cancels.delete(done)
        resolve()
      })
      const done = () => {
        cancel()
        resolve()
      }
      cancels.add(done)
    })

  /** Writes the outcome, retrying a failing store; undefined: the claim was lost (or the stop came first). */
  const settle = async (entry: OutboxEntry, event: MailEvent): Promise<OutboxEntry | undefined> => {
    let delayMs: number = OUTCOME_RETRY.baseMs
    let failed = false
    for (;;) {
      try {
        const stored = await outbox.settle({ owner, id: entry.id, event })
        if (failed) {
          const left = (stuck.get(entry.account) ?? 1) - 1
          if (left > 0) stuck.set(entry.account, left)
          else stuck.delete(entry.account)
          logger.info('Delivery outcome recorded after failed writes', {
            id: entry.id,
            account: entry.account,
          })
        }
        return stored
      } catch (caught) {
        if (!failed) {
          failed = true
          stuck.set(entry.account, (stuck.get(entry.account) ?? 0) + 1)
          logger.error('Could not record a delivery outcome; will keep trying', {
            id: entry.id,
            account: entry.account,
            event: event.type,
            error: toFailure(caught).message,
          })
        }
        if (stopped) {
          logger.error('A delivery outcome was not recorded before the stop; the message may be sent again', {
            id: entry.id,
            account: entry.account,
          })
          return undefined
        }
        await sleep(delayMs)
        delayMs = Math.min(delayMs * 2, OUTCOME_RETRY.capMs)
      }
    }
  }

  /**
   * Each account's reservations asked at once, in claim order (acceptance
   * order), so that the store may grant them together, in the order asked;
   * their answers heard one after another in that order, however the store
   * answers, so that they are sent in acceptance order.
   */
  const turns = new Map<string, Promise<void>>()
  const inTurn = <T>(account: string, reserve: () => Promise<T>): Promise<T> => {
    const asked = reserve()
    const reserving = (turns.get(account) ?? Promise.resolve()).then(() => asked)
    const done = reserving.then(
      () => undefined,
      () => undefined,
    )
    turns.set(account, done)
    void done.then(() => {
      if (turns.get(account) === done) turns.delete(account)
    })
    return reserving
  }

  const giveBack = (entry: OutboxEntry, nextAttemptAt?: number) =>
    settle(entry, { type: 'unlease', nextAttemptAt }).catch(() => undefined)

  /** Resolves to the entry as the attempt left it in the store (undefined when it is not known). */
  const attempt = async (entry: OutboxEntry, composed?: Uint8Array): Promise<OutboxEntry | undefined> => {
    const releasesAtStart = options.releasesOf(entry.account)
    const limits = options.limits
    const reserving = inTurn(entry.account, () =>
      quota.reserve({ account: entry.account, messageId: entry.id, limits }),
    )
    slots.set(
      entry.id,
      reserving.then(
        (answer) => (answer.granted ? answer.at : undefined),
        () => undefined,
      ),
    )
    const reservation = await reserving
    if (!reservation.granted) {
      logger.info('Daily send limit reached; the message waits', {
        id: entry.id,
        account: entry.account,
        retryInMs: reservation.retryAt - clock.now(),
      })
      return giveBack(entry, reservation.retryAt)
    }
    await sleep(reservation.at - clock.now())
    if (lost.has(entry.id)) return undefined
    if (options.isStopping() || options.isHeld(entry.account)) {
      // Not sent: back in the queue for whoever goes on (a held account's release sends it).
      return giveBack(entry)
    }
    logger.debug('Delivery attempt', { id: entry.id, account: entry.account, attempt: entry.attempts })
    let event: MailEvent
    let report: () => void
    try {
      const request = await sendRequestOf(entry, { outbox, largeBodies: options.largeBodies }, composed)
      const sent = await gmail.send(request)
      event = { type: 'sent', at: clock.now(), gmailMessageId: sent.id, gmailThreadId: sent.threadId }
      report = () =>
        logger.info('Message sent', { id: entry.id, account: entry.account, attempts: entry.attempts })
    } catch (caught) {
      const failure = toFailure(caught)
      const now = clock.now()
      if (failure.code === 'GMAIL_RATE_LIMITED' && failure.retryAfterMs !== undefined) {
        // Google's word for the account holds for the whole fleet.
        await quota.block(entry.account, now + failure.retryAfterMs, limits).catch(() => undefined)
      }
      const decided = failureEvent(entry, failure, {
        now,
        giveUpAfterMs: options.giveUpAfterMs,
        random: options.random,
        backoff: options.backoff,
        reauthorizedSince:
          options.releasesOf(entry.account) !== releasesAtStart && !options.isHeld(entry.account),
      })
      event = decided.event
      const fields = { id: entry.id, account: entry.account, code: failure.code }
      if (decided.outcome === 'hold') {
        options.onHold(entry.account)
        options.onReauthorizationRequired(entry.account, { code: failure.code, message: failure.message })
        report = () => logger.info('Delivery held until reauthorization', fields)
      } else if (decided.outcome === 'retry') {
        const retryInMs = (event.type === 'retryLater' ? (event.nextAttemptAt ?? now) : now) - now
        report = () => logger.warn('Delivery will be retried', { ...fields, retryInMs })
      } else {
        report = () => logger.warn('Delivery failed', fields)
      }
    }
    const stored = await settle(entry, event)
    if (stored) {
      active.set(entry.id, stored)
      report()
      const outcome = attemptOutcome(stored.status)
      if (outcome !== undefined) options.metrics?.messageOutcome(outcome)
    } else if (!stopped) {
      logger.warn('The claim on a message was lost before its outcome was recorded; another replica has it', {
        id: entry.id,
        account: entry.account,
      })
    }
    return stored
  }

  return {
    async run(entry, composed) {
      active.set(entry.id, entry)
      let settled: OutboxEntry | undefined
      try {
        settled = await attempt(entry, composed)
      } catch (caught) {
        logger.error('A delivery attempt failed unexpectedly; its claim will expire', {
          id: entry.id,
          error: toFailure(caught).message,
        })
      } finally {
        active.delete(entry.id)
        slots.delete(entry.id)
        lost.delete(entry.id)
        options.onSettled(entry.id, settled)
      }
    },
    has: (id) => active.has(id),
    slotOf: async (id) => slots.get(id) ?? undefined,
    live: (id) => active.get(id),
    async renewAll() {
      const ids = [...active.keys()]
      if (ids.length === 0) return
      try {
        for (const id of await outbox.renew({ owner, ids, leaseMs: options.leaseMs })) {
          if (active.get(id)?.status === 'sending') lost.add(id)
        }
      } catch (caught) {
        logger.error('Could not renew claims; they may expire', {
          count: ids.length,
          error: toFailure(caught).message,
        })
      }
    },
    stuckAccounts: () => [...stuck.keys()],
    stop() {
      stopped = true
      for (const cancel of [...cancels]) cancel()
    },
  }
}
