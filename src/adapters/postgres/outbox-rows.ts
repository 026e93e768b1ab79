/**
 * One outbox message as a row of `messages` and back. Times cross the wire
 * as epoch milliseconds (float8), never as driver dates: read with `ms()`,
 * written through `jsonb_to_recordset` and `to_timestamp`, so that a whole
 * batch of rows is one parameter and one statement.
 *
 * `next_attempt_at` is the message's due time (`dueAt`: the later of its
 * send time and its next attempt; the acceptance time when neither is
 * set), which the claim query compares with the clock. The entry's own
 * `nextAttemptAt` is read back only when it is what makes the message
 * later than its send time and acceptance: an earlier one changes nothing
 * about when the message goes, so nothing is lost by dropping it.
 */
import { dueAt } from '../../domain/mail/claim.ts'
import type { DeliveryAttempt, MailStatus, OutboxEntry, RecordedError } from '../../domain/mail/record.ts'

/** Epoch milliseconds of a timestamptz, as a JavaScript number (null stays null). */
export const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`
/** A timestamptz from epoch milliseconds (null stays null). */
export const ts = (value: string) => `to_timestamp((${value})::float8 / 1000)`
/** The database's clock in whole epoch milliseconds, read when the statement evaluates it. */
export const CLOCK_MS = `floor(extract(epoch FROM clock_timestamp()) * 1000)::float8`

/** The columns of a message, as `MessageRow`, from table alias `m`. */
export const MESSAGE_COLUMNS = `m.id, m.account, m.from_header, m.to_addresses, m.cc_addresses, m.bcc_addresses,
  m.subject, m.status, ${ms('m.created_at')} AS created_at, ${ms('m.send_at')} AS send_at,
  ${ms('m.next_attempt_at')} AS next_attempt_at, ${ms('m.sent_at')} AS sent_at, m.attempts, m.attempt_log,
  m.size, m.body_sha256, m.message_id_header, m.thread_id, m.gmail_message_id, m.gmail_thread_id, m.error,
  m.idempotency_key, m.input_hash, m.api_key_id, m.locked_by, ${ms('m.lease_until')} AS lease_until,
  ${ms('m.updated_at')} AS updated_at`

/** A message as `MESSAGE_COLUMNS` reads it. */
export interface MessageRow {
  id: string
  account: string
  from_header: string
  to_addresses: string[]
  cc_addresses: string[]
  bcc_addresses: string[]
  subject: string
  status: MailStatus
  created_at: number
  send_at: number | null
  next_attempt_at: number
  sent_at: number | null
  attempts: number
  attempt_log: DeliveryAttempt[]
  size: number
  body_sha256: string | null
  message_id_header: string
  thread_id: string | null
  gmail_message_id: string | null
  gmail_thread_id: string | null
  error: RecordedError | null
  idempotency_key: string | null
  input_hash: string | null
  api_key_id: string | null
  locked_by: string | null
  lease_until: number | null
  updated_at: number
}

/** The record type of `jsonb_to_recordset` over `rowOf` values (alias `r`). */
export const ROW_RECORD = `id text, account text, from_header text, to_addresses text[], cc_addresses text[],
  bcc_addresses text[], subject text, status text, created_at float8, send_at float8, next_attempt_at float8,
  sent_at float8, attempts integer, attempt_log jsonb, size integer, body_sha256 text, message_id_header text,
  thread_id text, gmail_message_id text, gmail_thread_id text, error jsonb, idempotency_key text,
  input_hash text, api_key_id text, locked_by text, lease_until float8, updated_at float8, ord integer`

/** Every column but `id` and `seq`, in the order of `ROW_VALUES`. */
export const WRITTEN_COLUMNS = [
  'account',
  'from_header',
  'to_addresses',
  'cc_addresses',
  'bcc_addresses',
  'subject',
  'status',
  'created_at',
  'send_at',
  'next_attempt_at',
  'sent_at',
  'attempts',
  'attempt_log',
  'size',
  'body_sha256',
  'message_id_header',
  'thread_id',
  'gmail_message_id',
  'gmail_thread_id',
  'error',
  'idempotency_key',
  'input_hash',
  'api_key_id',
  'locked_by',
  'lease_until',
  'updated_at',
] as const

const TIME_COLUMNS = new Set([
  'created_at',
  'send_at',
  'next_attempt_at',
  'sent_at',
  'lease_until',
  'updated_at',
])

/** The values of `WRITTEN_COLUMNS` from recordset alias `r`. */
export const ROW_VALUES = WRITTEN_COLUMNS.map((column) =>
  TIME_COLUMNS.has(column) ? ts(`r.${column}`) : `r.${column}`,
).join(', ')

/** `column = value` for each written column, for an UPDATE from recordset `r`. */
export const ROW_ASSIGNMENTS = WRITTEN_COLUMNS.map((column) =>
  TIME_COLUMNS.has(column) ? `${column} = ${ts(`r.${column}`)}` : `${column} = r.${column}`,
).join(', ')

/** The row of `entry`, as one element of the JSON that `ROW_RECORD` reads; `ord` keeps acceptance order. */
export function rowOf(entry: OutboxEntry, ord = 0): Record<string, unknown> {
  return {
    id: entry.id,
    account: entry.account,
    from_header: entry.from,
    to_addresses: entry.to,
    cc_addresses: entry.cc,
    bcc_addresses: entry.bcc,
    subject: entry.subject,
    status: entry.status,
    created_at: entry.createdAt,
    send_at: entry.sendAt ?? null,
    next_attempt_at: dueAt(entry) || entry.createdAt,
    sent_at: entry.sentAt ?? null,
    attempts: entry.attempts,
    attempt_log: entry.attemptLog,
    size: entry.size,
    body_sha256: entry.bodySha256 ?? null,
    message_id_header: entry.messageId,
    thread_id: entry.threadId ?? null,
    gmail_message_id: entry.gmailMessageId ?? null,
    gmail_thread_id: entry.gmailThreadId ?? null,
    error: entry.error ?? null,
    idempotency_key: entry.idempotencyKey ?? null,
    input_hash: entry.inputHash ?? null,
    api_key_id: entry.apiKeyId ?? null,
    locked_by: entry.claim?.owner ?? null,
    lease_until: entry.claim?.until ?? null,
    updated_at: entry.updatedAt,
    ord,
  }
}

/** The entry a row holds; absent fields are omitted, not undefined. */
export function entryOf(row: MessageRow): OutboxEntry {
  const entry: OutboxEntry = {
    id: row.id,
    account: row.account,
    from: row.from_header,
    to: row.to_addresses,
    cc: row.cc_addresses,
    bcc: row.bcc_addresses,
    subject: row.subject,
    status: row.status,
    createdAt: row.created_at,
    attempts: row.attempts,
    attemptLog: row.attempt_log,
    size: row.size,
    messageId: row.message_id_header,
    updatedAt: row.updated_at,
  }
  if (row.send_at !== null) entry.sendAt = row.send_at
  if (row.next_attempt_at > Math.max(row.send_at ?? row.created_at, row.created_at)) {
    entry.nextAttemptAt = row.next_attempt_at
  }
  if (row.sent_at !== null) entry.sentAt = row.sent_at
  if (row.body_sha256 !== null) entry.bodySha256 = row.body_sha256
  if (row.thread_id !== null) entry.threadId = row.thread_id
  if (row.gmail_message_id !== null) entry.gmailMessageId = row.gmail_message_id
  if (row.gmail_thread_id !== null) entry.gmailThreadId = row.gmail_thread_id
  if (row.error !== null) entry.error = row.error
  if (row.idempotency_key !== null) entry.idempotencyKey = row.idempotency_key
  if (row.input_hash !== null) entry.inputHash = row.input_hash
  if (row.api_key_id !== null) entry.apiKeyId = row.api_key_id
  if (row.locked_by !== null && row.lease_until !== null) {
    entry.claim = { owner: row.locked_by, until: row.lease_until }
  }
  return entry
}

/** `UPDATE` of whole rows from `$1`, a JSON array of `rowOf` values; returns nothing. */
export const WRITE_ROWS = `
UPDATE messages m SET ${ROW_ASSIGNMENTS}
FROM jsonb_to_recordset($1::jsonb) AS r(${ROW_RECORD})
WHERE m.id = r.id`
