/**
 * The contract's `MailRecord`: what callers see of an outbox entry
 * (ISO dates, no internal fields).
 */
import type { MailStatus, OutboxEntry, RecordedError } from '../domain/mail/record.ts'

export interface MailRecord {
  id: string
  status: MailStatus
  from: string
  to: string[]
  cc: string[]
  bcc: string[]
  subject: string
  createdAt: string
  sendAt?: string
  sentAt?: string
  attempts: number
  gmailMessageId?: string
  gmailThreadId?: string
  error?: RecordedError
}

const iso = (ms: number) => new Date(ms).toISOString()

export function toMailRecord(entry: OutboxEntry): MailRecord {
  const record: MailRecord = {
    id: entry.id,
    status: entry.status,
    from: entry.from,
    to: entry.to,
    cc: entry.cc,
    bcc: entry.bcc,
    subject: entry.subject,
    createdAt: iso(entry.createdAt),
    attempts: entry.attempts,
  }
  if (entry.sendAt !== undefined) record.sendAt = iso(entry.sendAt)
  if (entry.sentAt !== undefined) record.sentAt = iso(entry.sentAt)
  if (entry.gmailMessageId !== undefined) record.gmailMessageId = entry.gmailMessageId
  if (entry.gmailThreadId !== undefined) record.gmailThreadId = entry.gmailThreadId
  if (
    entry.error !== undefined &&
    (entry.status === 'failed' || entry.status === 'held' || entry.status === 'queued')
  ) {
    record.error = entry.error
  }
  return record
}
