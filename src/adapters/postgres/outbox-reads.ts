/**
 * What the outbox on PostgreSQL answers without changing anything: one
 * message, its body (checked as lowdb checks it), pages of the list
 * (newest first, an opaque cursor over `seq`), the unfinished messages,
 * an idempotency key's message, sends of an account, counts by status,
 * the oldest due message's age.
 */
import type pg from 'pg'
import { badRequest, ServiceError } from '../../domain/errors.ts'
import { MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../domain/mail/record.ts'
import { decodeBase64Strict, encodeBase64Url } from '../../domain/mime/base64.ts'
import type { OutboxPage } from '../../domain/ports.ts'
import { entryOf, MESSAGE_COLUMNS, type MessageRow, ms } from './outbox-rows.ts'

const GET = `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1`

const BODY = `
SELECT m.size, m.body_sha256, b.raw, length(b.raw) AS stored_size, encode(sha256(b.raw), 'hex') AS stored_sha256
FROM messages m JOIN message_bodies b ON b.message_id = m.id WHERE m.id = $1`

const LIST = `
SELECT ${MESSAGE_COLUMNS}, m.seq::text AS seq FROM messages m
WHERE ($1::text IS NULL OR m.status = $1) AND ($2::bigint IS NULL OR m.seq < $2)
  AND ($4::text IS NULL OR m.api_key_id = $4)
ORDER BY m.seq DESC LIMIT $3`

const PENDING = `
SELECT ${MESSAGE_COLUMNS} FROM messages m
WHERE m.status IN ('queued', 'scheduled', 'sending', 'held') ORDER BY m.seq`

const BY_KEY = `
SELECT ${MESSAGE_COLUMNS} FROM idempotency_keys k JOIN messages m ON m.id = k.message_id
WHERE k.namespace = '' AND k.key = $1 AND k.created_at >= to_timestamp($2::float8 / 1000)`

const SENT_SINCE = `
SELECT ${ms('sent_at')} AS sent_at FROM messages
WHERE account = $1 AND sent_at IS NOT NULL AND sent_at >= to_timestamp($2::float8 / 1000)
ORDER BY sent_at`

const COUNTS = `SELECT status, count(*)::int AS count FROM messages GROUP BY status`

// domain/mail/overdue.ts in SQL (greatest skips a NULL send_at); messages_status_seq finds the live rows.
const OLDEST_DUE_AGE = `
SELECT coalesce(extract(epoch FROM now() - min(greatest(created_at, send_at))) * 1000, 0)::float8 AS age_ms
FROM messages
WHERE status IN ('queued', 'scheduled', 'sending') AND greatest(created_at, send_at) <= now()`

export async function getMessage(pool: pg.Pool, id: string): Promise<OutboxEntry | undefined> {
  const row = (await pool.query<MessageRow>(GET, [id])).rows[0]
  return row === undefined ? undefined : entryOf(row)
}

interface BodyRow {
  size: number
  body_sha256: string | null
  raw: Uint8Array
  stored_size: number
  stored_sha256: string
}

/** The body; `BODY_DAMAGED` when it differs from the recorded size and digest (when one was recorded). */
export async function readBody(pool: pg.Pool, id: string): Promise<Uint8Array> {
  const row = (await pool.query<BodyRow>(BODY, [id])).rows[0]
  if (row === undefined) throw new ServiceError('NOT_FOUND', 'The message body is gone')
  if (row.body_sha256 !== null) {
    if (row.stored_size !== row.size) throw damaged(`size ${row.stored_size}, expected ${row.size}`)
    if (row.stored_sha256 !== row.body_sha256) {
      throw damaged(`size ${row.stored_size} as expected, but its SHA-256 digest differs`)
    }
  }
  return new Uint8Array(row.raw.buffer, row.raw.byteOffset, row.raw.byteLength)
}

function damaged(detail: string): ServiceError {
  return new ServiceError(
    'BODY_DAMAGED',
    `The stored message body is damaged (${detail}); the message was not sent`,
  )
}

export async function listMessages(
  pool: pg.Pool,
  query: { status?: MailStatus; limit: number; cursor?: string; apiKeyId?: string },
): Promise<OutboxPage> {
  const before = query.cursor === undefined ? null : decodeCursor(query.cursor)
  const limit = Math.max(0, Math.floor(query.limit))
  if (limit === 0) return { items: [] }
  const { rows } = await pool.query<MessageRow & { seq: string }>(LIST, [
    query.status ?? null,
    before,
    limit + 1,
    query.apiKeyId ?? null,
  ])
  const items = rows.slice(0, limit)
  const page: OutboxPage = { items: items.map(entryOf) }
  const last = items.at(-1)
  if (rows.length > limit && last !== undefined) page.nextCursor = encodeCursor(last.seq)
  return page
}

export async function pendingMessages(pool: pg.Pool): Promise<OutboxEntry[]> {
  return (await pool.query<MessageRow>(PENDING)).rows.map(entryOf)
}

export async function findByKey(pool: pg.Pool, key: string, since: number): Promise<OutboxEntry | undefined> {
  const row = (await pool.query<MessageRow>(BY_KEY, [key, since])).rows[0]
  return row === undefined ? undefined : entryOf(row)
}

export async function sentSince(pool: pg.Pool, account: string, since: number): Promise<number[]> {
  return (await pool.query<{ sent_at: number }>(SENT_SINCE, [account, since])).rows.map((row) => row.sent_at)
}

export async function countByStatus(pool: pg.Pool): Promise<Record<MailStatus, number>> {
  const counts = Object.fromEntries(MAIL_STATUSES.map((status) => [status, 0])) as Record<MailStatus, number>
  for (const row of (await pool.query<{ status: MailStatus; count: number }>(COUNTS)).rows) {
    counts[row.status] = row.count
  }
  return counts
}

/** Ms since the oldest message on its way out became due, by the database's clock; 0 when none is. */
export async function oldestDueAge(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ age_ms: number }>(OLDEST_DUE_AGE)).rows[0]?.age_ms ?? 0
}

/** The cursor names the `seq` of the last item of a page: `s<seq>`, base64url. */
function encodeCursor(seq: string): string {
  return encodeBase64Url(new TextEncoder().encode(`s${seq}`))
}

function decodeCursor(cursor: string): string {
  const bytes = decodeBase64Strict(cursor, 'either')
  const match = /^s(\d{1,18})$/.exec(bytes === undefined ? '' : new TextDecoder().decode(bytes))
  if (match === null) {
    throw badRequest('The cursor is not valid', [
      { path: 'cursor', message: 'Not a cursor from a previous page' },
    ])
  }
  return match[1]!
}
