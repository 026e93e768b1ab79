/**
 * Claims and status changes on PostgreSQL (`OutboxClaims`). Each is one
 * short transaction: the rows are read `FOR UPDATE` together with the
 * database's clock, moved by the domain's `transition` here in TypeScript
 * (the one table of moves, never restated in SQL), and written back whole
 * in one statement. `claimDue` says `isClaimable` in SQL as well, to pick
 * rows with `FOR UPDATE SKIP LOCKED`: replicas claiming at once for one
 * account each get other messages, and none waits for another.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import { holdsClaim } from '../../domain/mail/claim.ts'
import type { MailStatus, OutboxEntry } from '../../domain/mail/record.ts'
import { type MailEvent, transition } from '../../domain/mail/transition.ts'
import type { AccountWork } from '../../domain/ports.ts'
import { CLOCK_MS, entryOf, MESSAGE_COLUMNS, type MessageRow, ms, rowOf, WRITE_ROWS } from './outbox-rows.ts'
import { inTransaction } from './transaction.ts'

type Decide = (stored: OutboxEntry, now: number) => MailEvent | undefined

interface LockedRow extends MessageRow {
  now: number
}

/** The clock is read once per statement (a volatile CTE is evaluated once), before the rows. */
const WITH_CLOCK = `WITH clock AS (SELECT ${CLOCK_MS} AS now)`
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

/** A lease never shortens: renewing sets the later of the stored end and now + leaseMs. */
const RENEW = `
UPDATE messages SET lease_until = greatest(lease_until, to_timestamp((${CLOCK_MS} + $3::float8) / 1000))
WHERE id = ANY($1::text[]) AND locked_by = $2 AND status = 'sending'
RETURNING id`

const UPCOMING = `
SELECT account, ${ms(`min(CASE WHEN status = 'sending' THEN coalesce(lease_until, created_at) ELSE next_attempt_at END)`)} AS next_at
FROM messages WHERE status IN ('queued', 'scheduled', 'sending')
GROUP BY account ORDER BY account`

/** The store's clock, epoch ms. */
export async function databaseNow(pool: pg.Pool): Promise<number> {
  return (await pool.query<{ now: number }>(`SELECT ${CLOCK_MS} AS now`)).rows[0]!.now
}

/** The moved entries, written back whole; `updatedAt` is the database's clock. */
async function write(client: pg.ClientBase, entries: readonly OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return
  await client.query(WRITE_ROWS, [JSON.stringify(entries.map((entry) => rowOf(entry)))])
}

function moved(stored: OutboxEntry, event: MailEvent, now: number): OutboxEntry {
  return { ...transition(stored, event), updatedAt: now }
}

export async function claimDue(
  pool: pg.Pool,
  request: { owner: string; account: string; leaseMs: number; limit: number },
): Promise<OutboxEntry[]> {
  const limit = Math.max(0, Math.floor(request.limit))
  if (limit === 0) return []
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<LockedRow>(CLAIMABLE_ROWS, [request.account, limit])
    const claimed = rows.map((row) =>
      moved(
        entryOf(row),
        { type: 'lease', at: row.now, owner: request.owner, until: row.now + request.leaseMs },
        row.now,
      ),
    )
    await write(client, claimed)
    return claimed
  })
}

export async function renew(
  pool: pg.Pool,
  request: { owner: string; ids: readonly string[]; leaseMs: number },
): Promise<string[]> {
  if (request.ids.length === 0) return []
  const { rows } = await pool.query<{ id: string }>(RENEW, [[...request.ids], request.owner, request.leaseMs])
  const held = new Set(rows.map((row) => row.id))
  return request.ids.filter((id) => !held.has(id))
}

export async function settle(
  pool: pg.Pool,
  request: { owner: string; id: string; event: MailEvent },
): Promise<OutboxEntry | undefined> {
  return inTransaction(pool, async (client) => {
    const row = (await client.query<LockedRow>(ONE_ROW, [request.id])).rows[0]
    if (row === undefined) return undefined
    const stored = entryOf(row)
    if (!holdsClaim(stored, request.owner)) return undefined
    const next = moved(stored, request.event, row.now)
    await write(client, [next])
    return next
  })
}

export async function change(pool: pg.Pool, id: string, decide: Decide): Promise<OutboxEntry> {
  return inTransaction(pool, async (client) => {
    const row = (await client.query<LockedRow>(ONE_ROW, [id])).rows[0]
    if (row === undefined) throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
    const stored = entryOf(row)
    const event = decide(stored, row.now)
    if (event === undefined) return stored
    const next = moved(stored, event, row.now)
    await write(client, [next])
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
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<LockedRow>(ACCOUNT_ROWS, [account, [...statuses]])
    const changed: OutboxEntry[] = []
    for (const row of rows) {
      const stored = entryOf(row)
      const event = decide(stored, row.now)
      if (event !== undefined) changed.push(moved(stored, event, row.now))
    }
    await write(client, changed)
    return changed
  })
}

export async function upcoming(pool: pg.Pool): Promise<AccountWork[]> {
  const { rows } = await pool.query<{ account: string; next_at: number }>(UPCOMING)
  return rows.map((row) => ({ account: row.account, nextAt: row.next_at }))
}
