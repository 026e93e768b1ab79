/** What a fleet's delivery engine is given (`fleet-engine.ts`), and what it keeps per account. */
import type { AccountState } from '../../domain/credentials/account.ts'
import type { FleetSignals, OutboxClaims, SendQuotaPort } from '../../domain/ports.ts'
import type { DeliveryOptions } from './types.ts'

export interface FleetEngineOptions extends Omit<DeliveryOptions, 'outbox' | 'storage'> {
  outbox: DeliveryOptions['outbox'] & OutboxClaims
  quota: SendQuotaPort
  signals: FleetSignals
  /** This replica's name in claims (unique in the fleet). */
  owner: string
  /** The statuses of the fleet's accounts, from the shared store. */
  accountStates(): Promise<Map<string, AccountState>>
  /** A claim lasts this long unless renewed (default 60 s; renewed every third of it). */
  leaseMs?: number
  /** The backstop poll (default 2 s). */
  pollMs?: number
}

export const FLEET_DEFAULTS = { leaseMs: 60_000, pollMs: 2_000 } as const

export interface AccountLane {
  inFlight: number
  /** A claim under way: at most one per account at a time. */
  claiming?: Promise<void>
  /** A second claim was asked while one was under way: run it after. */
  again: boolean
  /**
   * Due mail may have been left unclaimed for want of a free slot (a claim
   * found none free, or took as many as were free): claim again when an
   * attempt ends. Otherwise an ending attempt claims nothing, and new mail
   * comes by `enqueue`, a signal or the poll.
   */
  starved: boolean
  timerAt?: number
  cancelTimer?: () => void
}
