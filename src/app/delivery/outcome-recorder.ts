/**
 * Writing the outcome of a delivery attempt to the outbox, whatever it
 * takes. Gmail has already answered, so an outcome that cannot be written
 * (a full or failing disk) must not be dropped: on disk the message would
 * still be queued and would go out again after a restart. Instead the
 * account's lane stops (no new send starts for it), the write is retried
 * with backoff (100 ms doubling to 5 s) until it succeeds, and then the lane
 * resumes. Nothing is ever resent on a guess.
 */
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { Logger } from '../logger.ts'
import type { Scheduler } from '../scheduler.ts'
import type { Lane } from './lane.ts'
import { toFailure } from './to-failure.ts'

export const OUTCOME_RETRY = { baseMs: 100, capMs: 5_000 } as const

export interface OutcomeRecorderOptions {
  persist(entry: OutboxEntry): Promise<void>
  scheduler: Scheduler
  logger: Logger
  /** Hears of every failed write (so that free space is measured again). */
  onWriteFailed(): void
  /** The lane may send again: its last unrecorded outcome was written. */
  onLaneResumed(lane: Lane): void
}

export interface OutcomeRecorder {
  /**
   * Writes the entry's outcome; on failure stops the lane and keeps trying.
   * `onStuck` runs once if the first write fails. Resolves `true` once
   * written, `false` if `stop` gave up first.
   */
  record(lane: Lane, entry: OutboxEntry, onStuck?: () => void): Promise<boolean>
  /** Whether an outcome of this message is being written. */
  isPending(id: string): boolean
  /** Accounts whose lane is stopped on an outcome not yet written. */
  stuckAccounts(): string[]
  /** Stops retrying; every outcome still unwritten is logged and its `record` resolves `false`. */
  stop(): void
}

export function createOutcomeRecorder(options: OutcomeRecorderOptions): OutcomeRecorder {
  const { persist, scheduler, logger } = options
  const pending = new Set<string>()
  const stuckLanes = new Set<Lane>()
  const giveUps = new Map<string, () => void>()
  let stopped = false

  const keepTrying = (entry: OutboxEntry): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      let delayMs: number = OUTCOME_RETRY.baseMs
      let tries = 1
      let cancel: () => void = () => {}
      const finish = (recorded: boolean) => {
        giveUps.delete(entry.id)
        resolve(recorded)
      }
      const giveUp = () => {
        cancel()
        logger.error('A delivery outcome was not recorded before the stop; the message may be sent again', {
          id: entry.id,
          account: entry.account,
          status: entry.status,
        })
        finish(false)
      }
      if (stopped) return giveUp()
      giveUps.set(entry.id, giveUp)
      const again = () => {
        cancel = scheduler.after(delayMs, () => {
          tries += 1
          persist(entry).then(
            () => {
              logger.info('Delivery outcome recorded after failed writes', {
                id: entry.id,
                account: entry.account,
                tries,
              })
              finish(true)
            },
            (caught) => {
              options.onWriteFailed()
              logger.debug('A delivery outcome still cannot be recorded', {
                id: entry.id,
                error: toFailure(caught).message,
              })
              delayMs = Math.min(delayMs * 2, OUTCOME_RETRY.capMs)
              if (!stopped) again()
            },
          )
        })
      }
      again()
    })

  return {
    async record(lane, entry, onStuck) {
      pending.add(entry.id)
      try {
        try {
          await persist(entry)
          return true
        } catch (caught) {
          options.onWriteFailed()
          lane.unrecorded += 1
          stuckLanes.add(lane)
          logger.error('Could not record a delivery outcome; the account stops sending until it is written', {
            id: entry.id,
            account: entry.account,
            status: entry.status,
            error: toFailure(caught).message,
          })
          onStuck?.()
        }
        const recorded = await keepTrying(entry)
        lane.unrecorded -= 1
        if (lane.unrecorded === 0) {
          stuckLanes.delete(lane)
          if (recorded) options.onLaneResumed(lane)
        }
        return recorded
      } finally {
        pending.delete(entry.id)
      }
    },
    isPending: (id) => pending.has(id),
    stuckAccounts: () => [...stuckLanes].map((lane) => lane.account),
    stop() {
      stopped = true
      for (const giveUp of [...giveUps.values()]) giveUp()
    },
  }
}
