/**
 * Webhook event ids, deterministic per change: the same change always has
 * the same id, so that an event derived again (after a crash, on open) is
 * recognised as the one already stored, never a second event. PostgreSQL's
 * triggers compute the same ids in SQL (`webhook_event_id` and the keys in
 * `src/adapters/postgres/migrations/003-webhooks.ts`): keep the two in step.
 *
 * A key names what makes one change unlike every earlier one of its
 * subject: for a message its status, attempts and the time of the last
 * entry of its attempt log (a message held twice with the same attempts was
 * released in between, which logs a new entry); for an account's status its
 * last code exchange or refresh (a second `reauthorization_required` needs
 * a reconnection in between, which sets it); for an expiry warning the
 * deadline it warns of.
 */
import type { Account } from '../../domain/credentials/account.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { EventType } from '../../domain/webhooks/event.ts'
import { sha256Hex } from '../input-hash.ts'

/** `evt_` and the first 128 bits of the SHA-256 of `key`, in hex. */
export async function webhookEventId(key: string): Promise<string> {
  return `evt_${(await sha256Hex(new TextEncoder().encode(key))).slice(0, 32)}`
}

/** The key of the `mail.<status>` event of `entry` as it is now. */
export function mailEventKey(type: EventType, entry: OutboxEntry): string {
  const lastAt = entry.attemptLog.at(-1)?.at ?? entry.createdAt
  return [type, entry.id, entry.attempts, lastAt].join('|')
}

/** The key of an `account.*` event of `account` as it is now. */
export function accountEventKey(type: EventType, account: Account): string {
  const mark =
    type === 'account.expiring' ? account.expiryWarnedFor : (account.lastRefreshAt ?? account.connectedAt)
  return [type, account.email, mark].join('|')
}
