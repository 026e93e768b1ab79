/**
 * What the in-process derivation of webhook events (`change-events.ts`)
 * needs of a store besides `WebhookStore`: a durable note of the changes
 * under way, written before each change, so that a crash between the change
 * and the publication of its events is found on open and made good. The
 * lowdb webhook store keeps it in the same file as its events, so that
 * `conclude` publishes and forgets in one atomic write.
 */
import type { MailStatus } from '../../domain/mail/record.ts'
import type { EventType, WebhookEvent } from '../../domain/webhooks/event.ts'
import type { AccountPrior } from './derive-events.ts'

/** A change about to be written, with what its subject was before (absent: it did not exist). */
export type NotedChange =
  | { kind: 'mail'; id: string; prior?: MailStatus }
  | { kind: 'account'; email: string; prior?: AccountPrior }

/** The journal's key of a change's subject: one note per message or account. */
export function noteKey(change: NotedChange): string {
  return change.kind === 'mail' ? `mail:${change.id}` : `account:${change.email}`
}

export interface ChangeJournal {
  /** Whether an enabled endpoint subscribes to any of `types` now: otherwise nothing is noted or derived. */
  wants(types: readonly EventType[]): boolean
  /**
   * Durably notes the changes, before they are written. A subject noted
   * already keeps its earlier note (the state before the first change not
   * yet concluded). `ahead`: noted ahead of a change to come, nobody waits
   * for it now (the store may take a little longer, to share a write).
   */
  note(changes: readonly NotedChange[], options?: { ahead?: boolean }): Promise<void>
  /** Every change noted and not yet concluded (after a crash: those to look at again). */
  noted(): NotedChange[]
  /**
   * Publishes `events` (as `WebhookStore.publish`, due at `at`) and forgets
   * the notes of `keys`, in one durable step. The events are handed over:
   * the journal may keep them as they are (`derive-events.ts` makes them
   * share nothing with the entry or account they report).
   */
  conclude(keys: readonly string[], events: readonly WebhookEvent[], at: number): Promise<void>
}
