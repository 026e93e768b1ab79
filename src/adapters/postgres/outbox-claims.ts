/**
 * Claims and status changes on PostgreSQL (`OutboxClaims`). Each is one
 * short transaction of two round trips (`short-transaction.ts`): the rows
 * are read `FOR UPDATE` together with the database's clock (with the
 * BEGIN), moved by the domain's `transition` here in TypeScript (the one
 * table of moves, never restated in SQL), and written back whole in one
 * statement (with the COMMIT). `claimDue` says `isClaimable` in SQL as
 * well, to pick rows with `FOR UPDATE SKIP LOCKED`: replicas claiming at
 * once for one account each get other messages, and none waits for
 * another. Outcomes of attempts are settled together (`outbox-settles.ts`).
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { MailStatus, OutboxEntry } from '../../domain/mail/record.ts'
import { type MailEvent, transition } from '../../domain/mail/transition.ts'
import type { AccountWork } from '../../domain/ports.ts'
import { CLOCK_MS, entryOf, MESSAGE_COLUMNS, type MessageRow, ms, rowOf, WRITE_ROWS } from './outbox-rows.ts'
import { inShortTransaction, type ShortTransactionOptions, type Statement } from './short-transaction.ts'
import { SIGNAL_CHANNEL } from './signals.ts'

type Decide = (stored: OutboxEntry, now: number) => MailEvent | undefined

export interface LockedRow extends MessageRow {
  now: number
}

/** The clock is read once per statement (a volatile CTE is evaluated once), before the rows. */
export const WITH_CLOCK = `WITH clock AS (SELECT ${CLOCK_MS} AS now)`
const CLOCK_NOW = `to_timestamp(clock.now / 1000)`

/** `domain/mail/claim.ts` `isClaimable`, at the clock of `WITH_CLOCK`. */
const CLAIMABLE = `(
  (m.status IN ('queued', 'scheduled') AND m.next_attempt_at <= ${CLOCK_NOW})
  OR (m.status = 'sending' AND (m.lease_until IS NULL OR m.lease_until <= ${CLOCK_NOW}))
)`

const CLAIMABLE_ROWS = `${WITH_CLOCK}
SELECT ${MESSAGE_COLUMNS}, clock.now FROM messages m, clock
WHERE m.account = $1 AND ${CLAIMABLE}
ORDER BY m.seq LIMIT $2
FOR UPDATE OF m SKIP LOCKED`

const ONE_ROW = `${WITH_CLOCK}
SELECT ${MESSAGE_COLUMNS}, clock.now FROM messages m, clock WHERE m.id = $1
FOR UPDATE OF m`

const ACCOUNT_ROWS = `${WITH_CLOCK}
SELECT ${MESSAGE_COLUMNS}, clock.now FROM messages m, clock
WHERE m.account = $1 AND m.status = ANY($2::text[])
ORDER BY m.seq
FOR UPDATE OF m`

/**
 * A lease never shortens: renewing sets the later of the stored end and now + leaseMs.
 * The rows are locked in acceptance order first, as settles lock theirs, so that the two never deadlock.
 */
const RENEW = `
WITH held AS (
  SELECT id FROM messages WHERE id = ANY($1::text[]) AND locked_by = $2 AND status = 'sending'
  ORDER BY seq FOR UPDATE
)
UPDATE messages m SET lease_until = greatest(m.lease_until, to_timestamp((${CLOCK_MS} + $3::float8) / 1000))
FROM held WHERE m.id = held.id AND m.locked_by = $2 AND m.status = 'sending'
RETURNING m.id`

const UPCOMING = `
SELECT account, ${ms(`min(CASE WHEN status = 'sending' THEN coalesce(lease_until, created_at) ELSE next_attempt_at END)`)} AS next_at
FROM messages WHERE status IN ('queued', 'scheduled', 'sending')
GROUP BY account ORDER BY account`

/** The store's clock, epoch ms. */
export async function databaseNow(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ now: number }>(`SELECT ${CLOCK_MS} AS now`)).rows[0]!.now
}

/** The statement writing the moved entries back whole (`updatedAt` is the database's clock); none for none. */
export function writeOf(entries: readonly OutboxEntry[]): Statement | undefined {
  if (entries.length === 0) return undefined
  return { text: WRITE_ROWS, values: [JSON.stringify(entries.map((entry) => rowOf(entry)))] }
}

/** `entry` written back, and its account's new mail announced to the fleet (at commit, like any NOTIFY). */
function writeAndAnnounce(entry: OutboxEntry): Statement {
  return {
    text: `WITH written AS (${WRITE_ROWS} RETURNING m.account)
SELECT pg_notify('${SIGNAL_CHANNEL}', json_build_object('t', 'mail', 'd', account)::text) FROM written`,
    values: [JSON.stringify([rowOf(entry)])],
  }
}

export function moved(stored: OutboxEntry, event: MailEvent, now: number): OutboxEntry {
  return { ...transition(stored, event), updatedAt: now }
}

export async function claimDue(
  pool: pg.Pool,
  request: { owner: string; account: string; leaseMs: number; limit: number },
  options: ShortTransactionOptions = {},
): Promise<OutboxEntry[]> {
  const limit = Math.max(0, Math.floor(request.limit))
  if (limit === 0) return []
  return inShortTransaction(
    pool,
    async (tx) => {
      const { rows } = await tx.query<LockedRow>(CLAIMABLE_ROWS, [request.account, limit])
      const claimed = rows.map((row) =>
        moved(
          entryOf(row),
          { type: 'lease', at: row.now, owner: request.owner, until: row.now + request.leaseMs },
          row.now,
        ),
      )
      await tx.commit(writeOf(claimed))
      return claimed
    },
    options,
  )
}

export async function renew(
  pool: pg.Pool,
  request: { owner: string; ids: readonly string[]; leaseMs: number },
  options: ShortTransactionOptions = {},
): Promise<string[]> {
  if (request.ids.length === 0) return []
  const values = [[...request.ids], request.owner, request.leaseMs]
  const { rows } =
    options.synchronousCommit === 'off'
      ? (await inShortTransaction(pool, (tx) => tx.commit<{ id: string }>({ text: RENEW, values }), options))!
      : await pool.query<{ id: string }>(RENEW, values)
  const held = new Set(rows.map((row) => row.id))
  return request.ids.filter((id) => !held.has(id))
}

export async function change(pool: pg.Pool, id: string, decide: Decide): Promise<OutboxEntry> {
  return inShortTransaction(pool, async (tx) => {
    const row = (await tx.query<LockedRow>(ONE_ROW, [id])).rows[0]
    if (row === undefined) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
    const stored = entryOf(row)
    const event = decide(stored, row.now)
    if (event === undefined) return stored
    const next = moved(stored, event, row.now)
    // Made claimable again (an admin's retry): every replica hears it when this commits.
    const announce = next.status === 'queued' && stored.status !== 'queued'
    await tx.commit(announce ? writeAndAnnounce(next) : writeOf([next]))
    return next
  })
}

/**
 * One transaction for the account's messages, locked in acceptance order
 * (so that two of these never deadlock); a refused move rolls all back.
 */
export async function changeAccount(
  pool: pg.Pool,
  account: string,
  statuses: readonly MailStatus[],
  decide: Decide,
): Promise<OutboxEntry[]> {
  if (statuses.length === 0) return []
  return inShortTransaction(pool, async (tx) => {
    const { rows } = await tx.query<LockedRow>(ACCOUNT_ROWS, [account, [...statuses]])
    const changed: OutboxEntry[] = []
    for (const row of rows) {
      const stored = entryOf(row)
      const event = decide(stored, row.now)
      if (event !== undefined) changed.push(moved(stored, event, row.now))
    }
    await tx.commit(writeOf(changed))
    return changed
  })
}

export async function upcoming(pool: pg.Pool): Promise<AccountWork[]> {
  const { rows } = await pool.query<{ account: string; next_at: number }>(UPCOMING)
  return rows.map((row) => ({ account: row.account, nextAt: row.next_at }))
}
