/**
 * Acceptance with group commit: calls without idempotency keys asked while
 * one acceptance is on its way share the next statement (`group-commit.ts`),
 * one round trip and one commit for all of them. Each caller hears only
 * once that statement has committed, with its own messages.
 *
 * A shared statement that fails for a reason of the database's (it cannot
 * be reached) fails each of its callers with that error. Any other failure
 * (a message id stored already, say) may be one caller's alone: each call
 * of the batch is then made again by itself, so that each hears its own
 * answer. Calls with keys are never grouped: their lookups and races are
 * `outbox-accept.ts`'s, one transaction each.
 */
import type pg from 'pg'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { AcceptResult } from '../../domain/ports.ts'
import { groupCommit, type Outcome } from './group-commit.ts'
import { acceptMessages } from './outbox-accept.ts'
import { outboxError } from './transaction.ts'

type Incoming = { entry: OutboxEntry; raw: Uint8Array }

/** Calls one statement takes at most (each of up to a batch of messages). */
const CALLS = 50

/** Body bytes one statement carries at most; a call above it goes alone. */
const BYTES = 8 * 1_048_576

async function acceptTogether(
  pool: pg.Pool,
  calls: readonly (readonly Incoming[])[],
): Promise<Outcome<AcceptResult[]>[]> {
  if (calls.length === 1) return [{ value: await acceptMessages(pool, calls[0]!, undefined) }]
  try {
    const results = await acceptMessages(pool, calls.flat(), undefined)
    let next = 0
    return calls.map((call) => {
      const mine = results.slice(next, next + call.length)
      next += call.length
      return { value: mine }
    })
  } catch (error) {
    if (outboxError(error, pool, 'store the messages').code === 'SERVICE_UNAVAILABLE') throw error
    return Promise.all(
      calls.map((call) =>
        acceptMessages(pool, call, undefined).then(
          (value): Outcome<AcceptResult[]> => ({ value }),
          (failed: unknown): Outcome<AcceptResult[]> => ({ error: failed }),
        ),
      ),
    )
  }
}

/** `accept` of messages without idempotency keys, with group commit over `pool`. */
export function acceptBatcher(pool: pg.Pool): (messages: readonly Incoming[]) => Promise<AcceptResult[]> {
  return groupCommit<readonly Incoming[], AcceptResult[]>({
    run: (calls) => acceptTogether(pool, calls),
    max: CALLS,
    weight: (call) => call.reduce((sum, { raw }) => sum + raw.byteLength, 0),
    budget: BYTES,
  })
}
