/**
 * Outcomes of attempts on PostgreSQL (`OutboxClaims.settle`) with group
 * commit (`group-commit.ts`): the settles asked while one batch is on its
 * way share the next transaction (two round trips and one commit for all).
 * The batch's rows are locked `FOR UPDATE` in acceptance order (`seq`, the
 * order `changeAccount` locks in, so that the two never deadlock), each
 * moved by the domain's `transition` only while its owner holds the claim,
 * and the moved ones written back in one statement. A settle whose claim
 * is gone answers undefined; a move the domain refuses answers its own
 * error, and the others of the batch are written all the same; a failed
 * transaction answers every settle of it with the error (the engine tries
 * again, its claim renewed meanwhile).
 *
 * The message's webhook event, if any, is written by the triggers of
 * migration 003 in this same transaction.
 */
import type pg from 'pg'
import { holdsClaim } from '../../domain/mail/claim.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { MailEvent } from '../../domain/mail/transition.ts'
import { groupCommit, type Outcome } from './group-commit.ts'
import { type LockedRow, moved, WITH_CLOCK, writeOf } from './outbox-claims.ts'
import { entryOf, MESSAGE_COLUMNS } from './outbox-rows.ts'
import { inShortTransaction, type ShortTransactionOptions } from './short-transaction.ts'

export interface SettleRequest {
  owner: string
  id: string
  event: MailEvent
}

/** Settles one transaction takes at most. */
const BATCH = 100

const ROWS = `${WITH_CLOCK}
SELECT ${MESSAGE_COLUMNS}, clock.now FROM messages m, clock WHERE m.id = ANY($1::text[])
ORDER BY m.seq
FOR UPDATE OF m`

/** Settles `requests` (distinct messages) in one transaction; each one's entry, undefined, or error. */
export async function settleMany(
  pool: pg.Pool,
  requests: readonly SettleRequest[],
  options: ShortTransactionOptions = {},
): Promise<Outcome<OutboxEntry | undefined>[]> {
  return inShortTransaction(
    pool,
    async (tx) => {
      const { rows } = await tx.query<LockedRow>(ROWS, [requests.map((request) => request.id)])
      const stored = new Map(rows.map((row) => [row.id, { entry: entryOf(row), now: row.now }]))
      const written: OutboxEntry[] = []
      const outcomes = requests.map((request): Outcome<OutboxEntry | undefined> => {
        const found = stored.get(request.id)
        if (found === undefined || !holdsClaim(found.entry, request.owner)) return { value: undefined }
        try {
          const next = moved(found.entry, request.event, found.now)
          written.push(next)
          return { value: next }
        } catch (error) {
          return { error }
        }
      })
      await tx.commit(writeOf(written))
      return outcomes
    },
    options,
  )
}

/** `settle` with group commit over `pool`: resolves once the outcome is committed. */
export function settleBatcher(
  pool: pg.Pool,
  options: ShortTransactionOptions = {},
): (request: SettleRequest) => Promise<OutboxEntry | undefined> {
  return groupCommit<SettleRequest, OutboxEntry | undefined>({
    run: (batch) => settleMany(pool, batch, options),
    max: BATCH,
    keyOf: (request) => request.id,
  })
}
