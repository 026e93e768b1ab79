/**
 * Which webhook events a change implies, decided from the state before and
 * after it: the same rules as PostgreSQL's triggers (migration 3), for the
 * stores that derive events in the process (lowdb). A message reports
 * `mail.<status>` when its status becomes sent, failed, held or canceled;
 * an account reports `account.connected` or `account.reauthorization_required`
 * when its status becomes that, and `account.expiring` when
 * `expiryWarnedFor` is set to a new value. `data` is the contract's
 * `MailRecord` / `AccountStatus` as it is after the change, sharing nothing
 * with the entry or account (`ChangeJournal.conclude` keeps events as given).
 */
import type { Account } from '../../domain/credentials/account.ts'
import type { MailStatus, OutboxEntry } from '../../domain/mail/record.ts'
import type { EventType, WebhookEvent } from '../../domain/webhooks/event.ts'
import { toAccountStatus } from '../account-status.ts'
import { toMailRecord } from '../mail-record.ts'
import { accountEventKey, mailEventKey, webhookEventId } from './event-ids.ts'

export const MAIL_EVENT_TYPES: readonly EventType[] = [
  'mail.sent',
  'mail.failed',
  'mail.held',
  'mail.canceled',
]
export const ACCOUNT_EVENT_TYPES: readonly EventType[] = [
  'account.connected',
  'account.reauthorization_required',
  'account.expiring',
]

/** The event type a message reports on reaching `status`, if any. */
export function mailEventType(status: MailStatus): EventType | undefined {
  const type = `mail.${status}`
  return (MAIL_EVENT_TYPES as readonly string[]).includes(type) ? (type as EventType) : undefined
}

/** What of an account before a change decides its events. */
export type AccountPrior = Pick<Account, 'status'> & { expiryWarnedFor?: number }

/** The fields of `account` that `accountEvents` compares. */
export function accountPrior(account: Account): AccountPrior {
  const prior: AccountPrior = { status: account.status }
  if (account.expiryWarnedFor !== undefined) prior.expiryWarnedFor = account.expiryWarnedFor
  return prior
}

/** The event of a message moving from `prior` (undefined: a new message) to `next`, if any. */
export async function mailEvents(prior: MailStatus | undefined, next: OutboxEntry): Promise<WebhookEvent[]> {
  const type = mailEventType(next.status)
  if (type === undefined || prior === next.status) return []
  const record = toMailRecord(next)
  // The event's own copy of what the record shares with the entry: the journal keeps it as it is.
  const data: Record<string, unknown> = {
    ...record,
    to: [...record.to],
    cc: [...record.cc],
    bcc: [...record.bcc],
  }
  if (record.error !== undefined) data.error = { ...record.error }
  return [{ id: await webhookEventId(mailEventKey(type, next)), type, at: next.updatedAt, data }]
}

/** The events of an account going from `prior` (undefined: a new account) to `next`, at `at`. */
export async function accountEvents(
  prior: AccountPrior | undefined,
  next: Account,
  at: number,
): Promise<WebhookEvent[]> {
  const types: EventType[] = []
  if (next.status !== prior?.status && next.status !== 'revoked') types.push(`account.${next.status}`)
  if (next.expiryWarnedFor !== undefined && next.expiryWarnedFor !== prior?.expiryWarnedFor)
    types.push('account.expiring')
  const status = toAccountStatus(next)
  const data: Record<string, unknown> = { ...status, scopes: [...status.scopes] }
  if (status.lastError !== undefined) data.lastError = { ...status.lastError }
  return Promise.all(
    types.map(async (type) => ({ id: await webhookEventId(accountEventKey(type, next)), type, at, data })),
  )
}
