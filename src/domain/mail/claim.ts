/**
 * Claims: which message a replica may take for an attempt, and whether it
 * still holds one. Pure; times are the store's clock, passed in. The
 * PostgreSQL adapter says the same in SQL (`FOR UPDATE SKIP LOCKED` over
 * the same conditions); the contract suite holds both to these rules.
 */
import { ServiceError } from '../errors.ts'
import type { OutboxEntry } from './record.ts'

/** When a queued or scheduled message becomes due: its send time, its next attempt, whichever is later. */
export function dueAt(entry: OutboxEntry): number {
  return Math.max(entry.sendAt ?? 0, entry.nextAttemptAt ?? 0)
}

/**
 * Whether a replica may claim the message at `now`: queued or scheduled and
 * due, or `sending` with no live lease (its replica died, or a single
 * process crashed mid-attempt).
 */
export function isClaimable(entry: OutboxEntry, now: number): boolean {
  if (entry.status === 'queued' || entry.status === 'scheduled') return dueAt(entry) <= now
  if (entry.status === 'sending') return entry.claim === undefined || entry.claim.until <= now
  return false
}

/** Throws CONFLICT unless the message is claimable at `now`. */
export function assertClaimable(entry: OutboxEntry, now: number): void {
  if (isClaimable(entry, now)) return
  const why =
    entry.status === 'sending'
      ? 'another replica is sending it'
      : entry.status === 'queued' || entry.status === 'scheduled'
        ? 'it is not due yet'
        : `it is ${entry.status}`
  throw new ServiceError('CONFLICT', `The message cannot be claimed: ${why}`)
}

/** Whether `owner`'s claim on the message still stands (an expired lease may have been taken over, or not yet). */
export function holdsClaim(entry: OutboxEntry, owner: string): boolean {
  return entry.status === 'sending' && entry.claim?.owner === owner
}

/** The claim renewed until `until`, or undefined when `owner` no longer holds it. */
export function renewClaim(entry: OutboxEntry, owner: string, until: number): OutboxEntry | undefined {
  if (!holdsClaim(entry, owner)) return undefined
  return { ...entry, claim: { owner, until: Math.max(until, entry.claim!.until) } }
}

/** Claimable messages in claim order: oldest acceptance first (createdAt, then id). */
export function byClaimOrder(a: OutboxEntry, b: OutboxEntry): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
