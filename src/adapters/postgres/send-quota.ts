/**
 * The fleet's send quota on PostgreSQL: `account_pacing` keeps each
 * account's GCRA state (`domain/delivery/gcra.ts`), `daily_sends` the sends
 * of the last 24 h. A reservation is one short transaction under the row
 * lock of the account's pacing row, timed by the database's clock
 * (`clock_timestamp()`, read after the lock is granted), so that every
 * replica agrees; it ends before the caller waits for `at` and calls Gmail.
 * Old `daily_sends` rows are pruned by the reservations themselves: the
 * table holds a day of sends, not the history.
 */
import type pg from 'pg'
import {
  blockUntil,
  dailyDeferral,
  gcraRate,
  type PacingState,
  reserveSlot,
} from '../../domain/delivery/gcra.ts'
import type { SendQuotaPort, SendReservation } from '../../domain/ports.ts'

/** Epoch milliseconds of a timestamptz, as a JavaScript number. */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`
const ts = (param: string) => `to_timestamp(${param}::float8 / 1000)`

/** Creates the account's row if need be and locks it; its state and the clock after the lock. */
const LOCK = `
INSERT INTO account_pacing (account) VALUES ($1)
ON CONFLICT (account) DO UPDATE SET account = EXCLUDED.account
RETURNING ${ms('next_send_at')} AS tat, ${ms('blocked_until')} AS blocked_until, ${ms('clock_timestamp()')} AS now`

const DAILY = `
SELECT count(*)::int AS count, ${ms('min(sent_at)')} AS oldest, coalesce(bool_or(message_id = $2), false) AS counted
FROM daily_sends WHERE account = $1 AND sent_at > ${ts('$3')} - interval '24 hours'`

const RECORD = `
WITH pacing AS (
  UPDATE account_pacing SET next_send_at = coalesce(${ts('$2')}, next_send_at), updated_at = clock_timestamp()
  WHERE account = $1
), pruned AS (
  DELETE FROM daily_sends WHERE account = $1 AND sent_at <= ${ts('$4')} - interval '24 hours'
)
INSERT INTO daily_sends (account, message_id, sent_at) VALUES ($1, $3, ${ts('$5')})
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

export function postgresSendQuota(pool: pg.Pool): SendQuotaPort {
  return {
    async reserve({ account, messageId, limits }): Promise<SendReservation> {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        try {
          const locked = (await client.query<LockRow>(LOCK, [account])).rows[0]!
          const now = locked.now
          if (limits.perDay > 0) {
            const daily = (await client.query(DAILY, [account, messageId, now])).rows[0]
            const retryAt = daily.counted
              ? undefined
              : dailyDeferral(daily.count, daily.oldest ?? undefined, now, limits.perDay)
            if (retryAt !== undefined) {
              await client.query('ROLLBACK')
              return { granted: false, reason: 'daily_limit', retryAt }
            }
          }
          const state: PacingState =
            locked.blocked_until === null
              ? { tat: locked.tat }
              : { tat: locked.tat, blockedUntil: locked.blocked_until }
          const { at, next } = reserveSlot(state, now, gcraRate(limits))
          await client.query(RECORD, [account, next.tat ?? null, messageId, now, at])
          await client.query('COMMIT')
          return { granted: true, at }
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {})
          throw error
        }
      } finally {
        client.release()
      }
    },
    async block(account, untilMs, limits) {
      const resume = blockUntil({}, untilMs, gcraRate(limits))
      await pool.query(BLOCK, [account, resume.blockedUntil, resume.tat])
    },
    async sentToday(account) {
      return (await pool.query(SENT_TODAY, [account])).rows[0].count
    },
  }
}
