/**
 * How late the outbox is: the messages whose send time has come and that
 * are not sent yet, for the `oldest due message` metric. Pure; each store
 * answers `OutboxRepository.oldestDueAge` by these rules (PostgreSQL in SQL).
 */
import type { MailStatus, OutboxEntry } from './record.ts'

/**
 * Statuses of a message still on its way out. `held` is not among them: it
 * waits for an admin, not for the engine (the accounts metric says why).
 */
export const AWAITING_SEND: readonly MailStatus[] = ['queued', 'scheduled', 'sending']

/**
 * Since when a message should have gone out: its send time, or its
 * acceptance when that came later. Retries and pacing do not move it, so a
 * message that keeps failing grows older.
 */
export function dueSince(entry: Pick<OutboxEntry, 'createdAt' | 'sendAt'>): number {
  return Math.max(entry.createdAt, entry.sendAt ?? 0)
}

/** Whether the message counts as due at `now`. */
export function isOverdue(entry: Pick<OutboxEntry, 'status' | 'createdAt' | 'sendAt'>, now: number): boolean {
  return AWAITING_SEND.includes(entry.status) && dueSince(entry) <= now
}

/** Milliseconds since the oldest of `entries` became due at `now`; 0 when none is due. */
export function oldestDueAge(
  entries: Iterable<Pick<OutboxEntry, 'status' | 'createdAt' | 'sendAt'>>,
  now: number,
): number {
  let oldest = Number.POSITIVE_INFINITY
  for (const entry of entries) if (isOverdue(entry, now)) oldest = Math.min(oldest, dueSince(entry))
  return Number.isFinite(oldest) ? now - oldest : 0
}
