/** The delivery engine's options and interface. */
import type { BackoffPolicy } from '../../domain/delivery/backoff.ts'
import type { PacingLimits } from '../../domain/delivery/pacing.ts'
import type { OutboxEntry, RecordedError } from '../../domain/mail/record.ts'
import type { Clock, GmailPort, OutboxRepository } from '../../domain/ports.ts'
import type { LargeBodyStore } from '../../domain/upload-ports.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { Scheduler } from '../scheduler.ts'
import type { StorageGuard } from '../storage-guard.ts'
import type { DeliveryControls } from './controls.ts'

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
  /** Retry delays; default `DEFAULT_BACKOFF` (1 s doubling up to 5 min). */
  backoff?: BackoffPolicy
  /** The free-space margin: no new send starts while it is `critical`. Default: always room. */
  storage?: Pick<StorageGuard, 'level' | 'writeFailed'>
  /** Called when Google refused an account's refresh token. */
  onReauthorizationRequired: (account: string, error: RecordedError) => void
  /** Hears each attempt's outcome once it is recorded. Default: counts nothing. */
  metrics?: Pick<Metrics, 'messageOutcome'>
  /** Bodies of messages composed from uploads, sent as streams. Default: none (every body is the outbox's). */
  largeBodies?: Pick<LargeBodyStore, 'open'>
}

export interface DeliveryEngine extends DeliveryControls {
  /** Loads every live message from the outbox and starts delivering. */
  start(): Promise<void>
  /**
   * Takes a newly accepted (already durable) message; with `body`, its bytes
   * as composed, which an attempt starting at once sends rather than read
   * them back (a later attempt reads the stored body, checked).
   */
  enqueue(entry: OutboxEntry, body?: Uint8Array): void
  /**
   * Resolves after the message's first attempt, or after `ms`, whichever is
   * first; at once when pacing or a stop puts that attempt beyond `ms`. With
   * the entry as the attempt left it when the engine has it at hand (its
   * outcome recorded, or being retried), so that the caller need not read it back.
   */
  waitForAttempt(id: string, ms: number): Promise<OutboxEntry | undefined>
  /** The live copy of a message, if the engine holds it. */
  live(id: string): OutboxEntry | undefined
  /** Accounts that send nothing until an outcome that could not be written is on disk. */
  stuckAccounts(): string[]
  /** Stops taking new work and waits for sends in flight, up to `deadlineMs`. */
  stop(deadlineMs: number): Promise<void>
}
