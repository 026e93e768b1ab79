/**
 * The fleet's send quota on PostgreSQL: `account_pacing` keeps each
 * account's GCRA state (`domain/delivery/gcra.ts`), `daily_sends` the sends
 * of the last 24 h. A reservation is one short transaction under the row
 * lock of the account's pacing row, timed by the database's clock
 * (`clock_timestamp()`, read after the lock is granted), so that every
 * replica agrees; it ends before the caller waits for `at` and calls Gmail.
 * Old `daily_sends` rows are pruned by the reservations themselves: the
 * table holds a day of sends, not the history.
 *
 * Reservations of one account asked while one is on its way share the next
 * transaction (`group-commit.ts`, one lane per account): granted one after
 * another in the order asked, exactly as if made one by one at that clock,
 * in three round trips and one commit for all (two without a daily limit).
 */
import type pg from 'pg'
import {
  blockUntil,
  dailyDeferral,
  gcraRate,
  type PacingState,
  reserveSlot,
} from '../../domain/delivery/gcra.ts'
import type { PacingLimits } from '../../domain/delivery/pacing.ts'
import type { SendQuotaPort, SendReservation } from '../../domain/ports.ts'
import { groupCommit, type Outcome } from './group-commit.ts'
import { inShortTransaction, type ShortTransactionOptions } from './short-transaction.ts'

/** Epoch milliseconds of a timestamptz, as a JavaScript number. */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`
const ts = (param: string) => `to_timestamp(${param}::float8 / 1000)`

/** Reservations one transaction takes at most. */
const BATCH = 100

/** Creates the account's row if need be and locks it; its state and the clock after the lock. */
const LOCK = `
INSERT INTO account_pacing (account) VALUES ($1)
ON CONFLICT (account) DO UPDATE SET account = EXCLUDED.account
RETURNING ${ms('next_send_at')} AS tat, ${ms('blocked_until')} AS blocked_until, ${ms('clock_timestamp()')} AS now`

/** The day's sends (read after the lock: a new snapshot sees what the lock's last holder committed). */
const DAILY = `
SELECT count(*)::int AS count, ${ms('min(sent_at)')} AS oldest,
  coalesce(array_agg(message_id) FILTER (WHERE message_id = ANY($2::text[])), '{}') AS counted
FROM daily_sends WHERE account = $1 AND sent_at > ${ts('$3')} - interval '24 hours'`

/** The new pacing state, the pruning, and the sends granted ($3: JSON [{ id, at }]). */
const RECORD = `
WITH pacing AS (
  UPDATE account_pacing SET next_send_at = coalesce(${ts('$2')}, next_send_at), updated_at = clock_timestamp()
  WHERE account = $1
), pruned AS (
  DELETE FROM daily_sends WHERE account = $1 AND sent_at <= ${ts('$4')} - interval '24 hours'
)
INSERT INTO daily_sends (account, message_id, sent_at)
SELECT $1, s.id, to_timestamp(s.at / 1000) FROM jsonb_to_recordset($3::jsonb) AS s(id text, at float8)
ON CONFLICT (account, message_id) DO NOTHING`

/** blockUntil, in one statement: the later of the stored and the new values (greatest skips NULL). */
const BLOCK = `
INSERT INTO account_pacing (account, next_send_at, blocked_until) VALUES ($1, ${ts('$3')}, ${ts('$2')})
ON CONFLICT (account) DO UPDATE SET
  blocked_until = greatest(account_pacing.blocked_until, EXCLUDED.blocked_until),
  next_send_at = greatest(account_pacing.next_send_at, EXCLUDED.next_send_at),
  updated_at = clock_timestamp()`

const SENT_TODAY = `
SELECT count(*)::int AS count FROM daily_sends
WHERE account = $1 AND sent_at > clock_timestamp() - interval '24 hours'`

interface LockRow {
  tat: number
  blocked_until: number | null
  now: number
}

interface DailyRow {
  count: number
  oldest: number | null
  counted: string[]
}

interface ReserveRequest {
  account: string
  messageId: string
  limits: PacingLimits
}

/** The reservations of one account's `requests`, in order, in one transaction. */
async function reserveMany(
  pool: pg.Pool,
  account: string,
  requests: readonly ReserveRequest[],
  options: ShortTransactionOptions,
): Promise<Outcome<SendReservation>[]> {
  return inShortTransaction(
    pool,
    async (tx) => {
      const locked = (await tx.query<LockRow>(LOCK, [account])).rows[0]!
      const now = locked.now
      let count = 0
      let oldest: number | undefined
      let counted = new Set<string>()
      if (requests.some((request) => request.limits.perDay > 0)) {
        const ids = requests.map((request) => request.messageId)
        const daily = (await tx.query<DailyRow>(DAILY, [account, ids, now])).rows[0]!
        count = daily.count
        oldest = daily.oldest ?? undefined
        counted = new Set<string>(daily.counted)
      }
      let state: PacingState =
        locked.blocked_until === null
          ? { tat: locked.tat }
          : { tat: locked.tat, blockedUntil: locked.blocked_until }
      const granted: Array<{ id: string; at: number }> = []
      const answers = requests.map(({ messageId, limits }): Outcome<SendReservation> => {
        const retryAt = counted.has(messageId) ? undefined : dailyDeferral(count, oldest, now, limits.perDay)
        if (retryAt !== undefined) return { value: { granted: false, reason: 'daily_limit', retryAt } }
        const { at, next } = reserveSlot(state, now, gcraRate(limits))
        state = next
        if (!counted.has(messageId)) {
          counted.add(messageId)
          granted.push({ id: messageId, at })
          count++
          oldest ??= at
        }
        return { value: { granted: true, at } }
      })
      if (!answers.some((answer) => 'value' in answer && answer.value.granted)) {
        // A refusal reserves nothing: not even the pacing row's creation stays.
        throw new AllRefused(answers)
      }
      await tx.commit({ text: RECORD, values: [account, state.tat ?? null, JSON.stringify(granted), now] })
      return answers
    },
    options,
  ).catch((error: unknown) => {
    if (error instanceof AllRefused) return error.answers
    throw error
  })
}

/** Thrown to roll a transaction of refusals back, carrying their answers. */
class AllRefused extends Error {
  readonly answers: Outcome<SendReservation>[]
  constructor(answers: Outcome<SendReservation>[]) {
    super('Every reservation of the batch was refused')
    this.answers = answers
  }
}

export function postgresSendQuota(pool: pg.Pool, options: ShortTransactionOptions = {}): SendQuotaPort {
  const reserve = groupCommit<ReserveRequest, SendReservation>({
    run: (batch) => reserveMany(pool, batch[0]!.account, batch, options),
    max: BATCH,
    laneOf: (request) => request.account,
  })
  return {
    reserve: (request) => reserve(request),
    async block(account, untilMs, limits) {
      const resume = blockUntil({}, untilMs, gcraRate(limits))
      await pool.query(BLOCK, [account, resume.blockedUntil, resume.tat])
    },
    async sentToday(account) {
      return (await pool.query(SENT_TODAY, [account])).rows[0].count
    },
  }
}
