/**
 * The outbox on PostgreSQL (tables `messages`, `message_bodies`,
 * `idempotency_keys` of migration 1), shared by every replica: acceptance
 * (`outbox-accept.ts`; concurrent calls without keys share a statement,
 * `outbox-accept-group.ts`), claims and status changes under row locks with
 * the database's clock (`outbox-claims.ts`; concurrent settles share a
 * transaction, `outbox-settles.ts`), reads (`outbox-reads.ts`), and the
 * retention sweep. Every method resolves once committed; driver
 * errors become `ServiceError`s (`SERVICE_UNAVAILABLE` for a database that
 * cannot be reached). The pool is the caller's: `close` only stops this
 * outbox taking new calls and waits for those under way.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { OutboxClaims, OutboxRepository } from '../../domain/ports.ts'
import { acceptMessages } from './outbox-accept.ts'
import { acceptBatcher } from './outbox-accept-group.ts'
import { change, changeAccount, claimDue, databaseNow, renew, upcoming } from './outbox-claims.ts'
import {
  countByStatus,
  findByKey,
  getMessage,
  listMessages,
  oldestDueAge,
  pendingMessages,
  readBody,
  sentSince,
} from './outbox-reads.ts'
import { rowOf, WRITE_ROWS } from './outbox-rows.ts'
import { settleBatcher } from './outbox-settles.ts'
import { outboxError } from './transaction.ts'

export type PostgresOutbox = OutboxRepository &
  OutboxClaims & {
    /** Deletes finished messages older than the retention, and expired idempotency keys; returns how many messages. */
    sweep(): Promise<number>
    /** Waits for calls under way, then refuses new ones; the pool stays open. */
    close(): Promise<void>
  }

/** Idempotency keys older than this count no more anywhere (the API promises 24 hours). */
const IDEMPOTENCY_KEYS_KEPT_MS = 24 * 3_600_000

/** Rows deleted by one statement of the sweep, so that no statement holds many locks for long. */
const SWEEP_BATCH = 1_000

const SWEEP_MESSAGES = `
WITH doomed AS (
  SELECT id FROM messages
  WHERE status IN ('sent', 'failed', 'canceled') AND updated_at < clock_timestamp() - $1::float8 * interval '1 millisecond'
  ORDER BY updated_at LIMIT ${SWEEP_BATCH}
)
DELETE FROM messages m USING doomed WHERE m.id = doomed.id`

const SWEEP_KEYS = `
DELETE FROM idempotency_keys WHERE created_at < clock_timestamp() - $1::float8 * interval '1 millisecond'`

export interface PostgresOutboxOptions {
  retentionMs: number
  /**
   * `synchronous_commit` of what the delivery engine writes after
   * acceptance (claims, lease renewals, outcomes): `on` (default) or `off`,
   * whose commits return before their WAL is on disk. A crash of the
   * database server may then undo the last of them (about 3 ×
   * `wal_writer_delay`): a message sent may be sent again (at least once).
   * Acceptances, and the admin's changes, are always `on`. The service
   * keeps the default: measured, `off` did not pay (bench/notes.md,
   * "What a commit costs on PostgreSQL"); `bench/pg-store-path.ts` compares them.
   */
  synchronousCommitOutcomes?: 'on' | 'off'
}

export function postgresOutbox(pool: pg.Pool, options: PostgresOutboxOptions): PostgresOutbox {
  const running = new Set<Promise<unknown>>()
  let closed = false
  const outcomes = { synchronousCommit: options.synchronousCommitOutcomes ?? 'on' } as const
  const acceptGrouped = acceptBatcher(pool)
  const settle = settleBatcher(pool, outcomes)

  /** Runs one call: refused once closed, tracked for `close`, its errors translated. */
  const run = <T>(action: string, work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new ServiceError('STORAGE', 'The outbox is closed'))
    const call = work().catch((error: unknown) => {
      throw outboxError(error, pool, action)
    })
    const tracked = call.then(
      () => undefined,
      () => undefined,
    )
    running.add(tracked)
    void tracked.finally(() => running.delete(tracked))
    return call
  }

  return {
    accept: (messages, acceptOptions) =>
      run('store the messages', async () => {
        try {
          const keyed = messages.some(({ entry }) => entry.idempotencyKey !== undefined)
          return await (keyed
            ? acceptMessages(pool, messages, acceptOptions?.idempotencySince)
            : acceptGrouped(messages))
        } catch (error) {
          throw duplicateId(error) ?? error
        }
      }),
    update: (entry: OutboxEntry) =>
      run('record the message', async () => {
        const result = await pool.query(WRITE_ROWS, [JSON.stringify([rowOf(entry)])])
        if (result.rowCount === 0) throw new ServiceError('NOT_FOUND', 'No message with this id')
      }),
    get: (id) => run('read the message', () => getMessage(pool, id)),
    readRaw: (id) => run('read the message body', () => readBody(pool, id)),
    list: (query) => run('list the messages', () => listMessages(pool, query)),
    pending: () => run('read the unfinished messages', () => pendingMessages(pool)),
    findByIdempotencyKey: (key, since) =>
      run('look up the idempotency key', () => findByKey(pool, key, since)),
    sentSince: (account, since) => run('count the sends', () => sentSince(pool, account, since)),
    countByStatus: () => run('count the messages', () => countByStatus(pool)),
    oldestDueAge: () => run('measure the oldest due message', () => oldestDueAge(pool)),
    now: () => run('read the clock', () => databaseNow(pool)),
    claimDue: (request) => run('claim due messages', () => claimDue(pool, request, outcomes)),
    renew: (request) => run('renew the leases', () => renew(pool, request, outcomes)),
    settle: (request) => run('record the attempt', () => settle(request)),
    change: (id, decide) => run('change the message', () => change(pool, id, decide)),
    changeAccount: (account, statuses, decide) =>
      run("change the account's messages", () => changeAccount(pool, account, statuses, decide)),
    upcoming: () => run('look for upcoming work', () => upcoming(pool)),
    sweep: () =>
      run('sweep old messages', async () => {
        let swept = 0
        for (;;) {
          const { rowCount } = await pool.query(SWEEP_MESSAGES, [options.retentionMs])
          swept += rowCount ?? 0
          if ((rowCount ?? 0) < SWEEP_BATCH) break
        }
        await pool.query(SWEEP_KEYS, [IDEMPOTENCY_KEYS_KEPT_MS])
        return swept
      }),
    async close() {
      closed = true
      await Promise.all([...running])
    },
  }
}

/**
 * A message id stored already is the caller's CONFLICT: a unique violation
 * on the primary key of `messages`, or of `message_bodies`, whose insert in
 * the same statement may meet the duplicate first (CTEs run in no set order).
 */
const ID_KEYS = new Set(['messages_pkey', 'message_bodies_pkey'])

function duplicateId(error: unknown): ServiceError | undefined {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown }
  if (code !== '23505' || typeof constraint !== 'string' || !ID_KEYS.has(constraint)) return undefined
  return new ServiceError('CONFLICT', 'A message with this id already exists', { cause: error })
}
