/**
 * A message's timeline of delivery attempts (and releases), bounded so that
 * a message retried for days does not grow without end.
 */
import type { DeliveryAttempt, OutboxEntry } from './record.ts'

/** Attempts kept per message: the first, and the latest ones. */
export const ATTEMPT_LOG_LIMIT = 50

/** Appends to the message's timeline, keeping its first attempt and the latest ones. */
export function recordAttempt(entry: Pick<OutboxEntry, 'attemptLog'>, item: DeliveryAttempt): void {
  entry.attemptLog.push(item)
  if (entry.attemptLog.length > ATTEMPT_LOG_LIMIT)
    entry.attemptLog.splice(1, entry.attemptLog.length - ATTEMPT_LOG_LIMIT)
}
