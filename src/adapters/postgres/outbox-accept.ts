/**
 * Acceptance on PostgreSQL: new messages, their bodies and their
 * idempotency keys in one atomic step. Keys are unique in
 * `idempotency_keys` (namespace, key), so two replicas racing with one key
 * make one message: the loser's insert waits for the winner's commit, then
 * finds the key taken (`ON CONFLICT`), and gives the winner's message back.
 *
 * Without keys the whole batch is one statement. With keys: the live ones
 * are looked up first (a repeated call stores no body at all), the rest is
 * inserted with its keys, and any key lost to a racing replica meanwhile
 * turns its message back into a replay (its row deleted again) before the
 * commit. A key accepted before `idempotencySince` no longer counts: it is
 * taken over by the new message.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import { isFinished, type OutboxEntry } from '../../domain/mail/record.ts'
import type { AcceptResult } from '../../domain/ports.ts'
import {
  entryOf,
  MESSAGE_COLUMNS,
  type MessageRow,
  ROW_RECORD,
  ROW_VALUES,
  rowOf,
  WRITTEN_COLUMNS,
} from './outbox-rows.ts'
import { inShortTransaction } from './short-transaction.ts'
import { SIGNAL_CHANNEL } from './signals.ts'

/** Whose keys: one namespace until keys are scoped per API key. */
const NAMESPACE = ''

type Incoming = { entry: OutboxEntry; raw: Uint8Array }

/** The earliest a live key may have been accepted: `$2` epoch ms, or any time when null. */
const SINCE = `coalesce(to_timestamp($2::float8 / 1000), '-infinity'::timestamptz)`

const LIVE_KEYS = `
SELECT k.key, k.input_hash, ${MESSAGE_COLUMNS}
FROM idempotency_keys k JOIN messages m ON m.id = k.message_id
WHERE k.namespace = '${NAMESPACE}' AND k.key = ANY($1::text[]) AND k.created_at >= ${SINCE}`

/**
 * Messages ($1, rowOf JSON), keys ($3, JSON) and bodies ($4 …) in one
 * statement; returns the keys it took (a live one held by another message
 * is not taken), or one row of a null key. The same statement announces
 * the new mail of each account to the fleet (`signals.ts`): a NOTIFY is
 * sent at commit, so no replica hears of a message before it is stored,
 * and the announcement costs no round trip and no commit of its own.
 */
function insertStatement(bodies: number): string {
  const values = Array.from({ length: bodies }, (_, i) => `($${4 + 2 * i}, $${5 + 2 * i}::bytea)`).join(', ')
  return `
WITH inserted AS (
  INSERT INTO messages (id, ${WRITTEN_COLUMNS.join(', ')})
  SELECT r.id, ${ROW_VALUES} FROM jsonb_to_recordset($1::jsonb) AS r(${ROW_RECORD}) ORDER BY r.ord
  RETURNING id, account
), announced AS (
  SELECT pg_notify('${SIGNAL_CHANNEL}', json_build_object('t', 'mail', 'd', a.account)::text)
  FROM (SELECT DISTINCT account FROM inserted) a
), bodies AS (
  INSERT INTO message_bodies (message_id, raw) VALUES ${values}
), keys AS (
  INSERT INTO idempotency_keys (namespace, key, message_id, input_hash, created_at)
  SELECT '${NAMESPACE}', k.key, k.message_id, k.input_hash, to_timestamp(k.created_at / 1000)
  FROM jsonb_to_recordset($3::jsonb) AS k(key text, message_id text, input_hash text, created_at float8)
  ON CONFLICT (namespace, key) DO UPDATE
    SET message_id = EXCLUDED.message_id, input_hash = EXCLUDED.input_hash, created_at = EXCLUDED.created_at
    WHERE idempotency_keys.created_at < ${SINCE}
  RETURNING key
)
SELECT k.key FROM (SELECT count(*) FROM announced) AS a LEFT JOIN keys k ON true`
}

interface KeyRow extends MessageRow {
  key: string
  input_hash: string
}

/** Stores `messages` (see the file comment); resolves once committed. */
export async function acceptMessages(
  pool: pg.Pool,
  messages: readonly Incoming[],
  since: number | undefined,
): Promise<AcceptResult[]> {
  checkBatch(messages)
  if (messages.length === 0) return []
  const keyed = messages.filter((message) => message.entry.idempotencyKey !== undefined)
  if (keyed.length === 0) {
    await pool.query(insertStatement(messages.length), insertParameters(messages, since))
    return messages.map(({ entry }) => ({ entry: structuredClone(entry), replayed: false }))
  }
  return inShortTransaction(pool, async (client) => {
    const replays = new Map<string, OutboxEntry>()
    const found = await client.query<KeyRow>(LIVE_KEYS, [keyed.map(keyOf), since ?? null])
    for (const row of found.rows) replays.set(row.key, replayOf(row, messages))
    const fresh = messages.filter((message) => !replays.has(keyOf(message)))
    if (fresh.length > 0) {
      const inserted = await client.query<{ key: string | null }>(
        insertStatement(fresh.length),
        insertParameters(fresh, since),
      )
      const taken = new Set(inserted.rows.map((row) => row.key).filter((key) => key !== null))
      const lost = fresh.filter(
        (message) => message.entry.idempotencyKey !== undefined && !taken.has(keyOf(message)),
      )
      if (lost.length > 0) {
        // A racing replica committed these keys after the lookup: its messages stand, ours go.
        const winners = await client.query<KeyRow>(LIVE_KEYS, [lost.map(keyOf), since ?? null])
        for (const row of winners.rows) replays.set(row.key, replayOf(row, messages))
        await client.query('DELETE FROM messages WHERE id = ANY($1::text[])', [
          lost.map(({ entry }) => entry.id),
        ])
      }
    }
    return messages.map(({ entry }): AcceptResult => {
      const replay = entry.idempotencyKey === undefined ? undefined : replays.get(entry.idempotencyKey)
      return replay === undefined
        ? { entry: structuredClone(entry), replayed: false }
        : { entry: replay, replayed: true }
    })
  })
}

function keyOf(message: Incoming): string {
  return message.entry.idempotencyKey ?? ''
}

/** The earlier message of a live key, or the CONFLICT of a key used for another message. */
function replayOf(row: KeyRow, messages: readonly Incoming[]): OutboxEntry {
  const incoming = messages.find((message) => message.entry.idempotencyKey === row.key)
  if (incoming !== undefined && (incoming.entry.inputHash ?? '') !== row.input_hash) {
    throw new ServiceError(
      'CONFLICT',
      `The idempotency key ${JSON.stringify(row.key)} was used in the last 24 hours with a different message`,
    )
  }
  return entryOf(row)
}

function insertParameters(messages: readonly Incoming[], since: number | undefined): unknown[] {
  const keys = messages.flatMap(({ entry }) =>
    entry.idempotencyKey === undefined
      ? []
      : [
          {
            key: entry.idempotencyKey,
            message_id: entry.id,
            input_hash: entry.inputHash ?? '',
            created_at: entry.createdAt,
          },
        ],
  )
  return [
    JSON.stringify(messages.map(({ entry }, index) => rowOf(entry, index))),
    since ?? null,
    JSON.stringify(keys),
    ...messages.flatMap(({ entry, raw }) => [entry.id, raw]),
  ]
}

function checkBatch(messages: readonly Incoming[]): void {
  for (const { entry } of messages) {
    if (isFinished(entry.status)) {
      throw new ServiceError('INTERNAL', 'Only unfinished messages can be accepted into the outbox')
    }
  }
  const ids = new Set(messages.map(({ entry }) => entry.id))
  if (ids.size !== messages.length) throw new ServiceError('CONFLICT', 'Two messages share one id')
  const keys = messages.flatMap(({ entry }) =>
    entry.idempotencyKey === undefined ? [] : [entry.idempotencyKey],
  )
  if (new Set(keys).size !== keys.length) {
    throw new ServiceError('INTERNAL', 'Two messages of one acceptance share an idempotency key')
  }
}
