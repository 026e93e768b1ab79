/**
 * The per-API-key request budget on PostgreSQL (`rate_budgets`), shared by
 * every replica: the token bucket of `app/rate-limit.ts` kept as GCRA, one
 * timestamp per key, `next_at`, the time the key's bucket is full again.
 * With `u` ms per unit and a burst of `C` units, the bucket holds
 * `C - max(0, next_at - now) / u` units; a charge of `cost` needing `needed`
 * of them is allowed when `next_at <= now + (C - needed) · u`, and then
 * moves `next_at` to `max(next_at, now) + cost · u` (past `now + C · u`
 * for a cost above the burst: the debt).
 *
 * A charge is one upsert under the row lock of the key's row, timed by the
 * database's clock (`clock_timestamp()`, read after the lock is granted),
 * so that every replica agrees. A refused charge changes nothing; a second
 * read then tells how long to wait.
 */
import type pg from 'pg'
import { defaultBurst } from '../../app/rate-limit.ts'
import type { BudgetLimits, RequestBudget } from '../../domain/ports.ts'
import { inDatabase } from './database-error.ts'
import { epochMs, msInterval } from './sql-time.ts'

/** $1 key id, $2 slack (C - needed) · u in ms, $3 cost · u in ms. A new key's bucket is full: always allowed. */
const CHARGE = `
INSERT INTO rate_budgets AS budget (key_id, next_at, updated_at)
VALUES ($1, clock_timestamp() + ${msInterval('$3')}, clock_timestamp())
ON CONFLICT (key_id) DO UPDATE SET
  next_at = greatest(budget.next_at, clock_timestamp()) + ${msInterval('$3')},
  updated_at = clock_timestamp()
WHERE budget.next_at <= clock_timestamp() + ${msInterval('$2')}
RETURNING key_id`

/** How far ahead of the clock the key's `next_at` is, in ms. */
const AHEAD = `SELECT ${epochMs('next_at')} - ${epochMs('clock_timestamp()')} AS ahead FROM rate_budgets WHERE key_id = $1`

export function postgresRequestBudget(
  pool: pg.Pool,
  options: { perMinute: number; burst?: number },
): RequestBudget {
  /** Takes `cost` units when `needed` are there: 0, else the ms until they are. */
  const charge = async (
    key: string,
    limits: BudgetLimits,
    cost: number,
    needed: (capacity: number) => number,
  ): Promise<number> => {
    const { perMinute } = limits
    if (perMinute <= 0 || cost <= 0) return 0
    const capacity = Math.max(1, limits.burst ?? defaultBurst(perMinute))
    const msPerUnit = 60_000 / perMinute
    const slackMs = (capacity - needed(capacity)) * msPerUnit
    return inDatabase(pool, 'charge the request budget', async () => {
      const charged = await pool.query(CHARGE, [key, slackMs, cost * msPerUnit])
      if ((charged.rowCount ?? 0) > 0) return 0
      const { rows } = await pool.query<{ ahead: number }>(AHEAD, [key])
      return Math.max(1, Math.ceil((rows[0]?.ahead ?? 0) - slackMs))
    })
  }

  // A key with its own limits (its scope's rate) is charged by them; its row is the same GCRA timestamp.
  return {
    take: (key, cost = 1, own = options) => charge(key, own, cost, (capacity) => Math.min(cost, capacity)),
    extend: (key, extra, paid, own = options) =>
      charge(key, own, extra, (capacity) => Math.min(paid + extra, capacity) - paid),
  }
}
