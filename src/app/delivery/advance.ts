/**
 * Moves the engine's own copy of a message through the domain's
 * `transition`, in place.
 *
 * In place rather than swapping in the new object, because one object is
 * shared: the live map, the lane's waiting list, the attempt under way and
 * the outcome recorder (which rewrites the same entry until a write
 * succeeds) all hold it. Changed in place, each sees the latest state; a new
 * object would have to be put into all four, and a recorder still retrying
 * the old one would write a stale status over a newer one.
 */
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { type MailEvent, transition } from '../../domain/mail/transition.ts'

/** Applies `event` to `entry` (or throws the domain's refusal, `entry` unchanged); returns `entry`. */
export function advance(entry: OutboxEntry, event: MailEvent): OutboxEntry {
  const next = transition(entry, event)
  for (const key of Object.keys(entry) as Array<keyof OutboxEntry>) {
    if (!(key in next)) delete (entry as Partial<OutboxEntry>)[key]
  }
  Object.assign(entry, next)
  return entry
}
