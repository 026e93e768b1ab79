/**
 * Settling webhook attempts on PostgreSQL with group commit: the settles
 * asked for within a few milliseconds, or while one statement is on its
 * way, share the next one (one round trip and one commit for all, instead
 * of one each; the dispatcher's next attempt does not wait for a settle). The statement
 * is what `settle` always was, for many rows: each delivery moves only
 * while its owner holds the claim and it is pending, and its attempt is
 * recorded only when it moved. All of a statement's settles commit or fail
 * together; a failed one answers every caller with the error (the attempt
 * is then made again once its claim runs out: at least once).
 */
import type pg from 'pg'
import type { DeliveryAttemptRecord } from '../../domain/webhooks/event.ts'
import { fromEpochMs } from './sql-time.ts'

export interface SettleRequest {
  owner: string
  deliveryId: string
  attempt: DeliveryAttemptRecord
  next: { retryAt: number } | { done: 'delivered' | 'gave_up' }
}

/** Settles one statement takes at most. */
const BATCH = 100

/** How long the first settle of a statement waits for others. */
const LINGER_MS = 2

const SETTLE_MANY = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
    n int, delivery_id text, owner text, retry_at float8, done text, at float8,
    endpoint_id text, event_id text, event_type text, status int, error text, ok boolean, duration_ms float8)
), moved AS (
  UPDATE webhook_deliveries d
  SET attempts = d.attempts + 1, locked_by = NULL, lease_until = NULL,
    due_at = coalesce(${fromEpochMs('i.retry_at')}, d.due_at),
    finished = i.done, finished_at = CASE WHEN i.done IS NULL THEN NULL ELSE ${fromEpochMs('i.at')} END
  FROM input i
  WHERE d.id = i.delivery_id AND d.locked_by = i.owner AND d.finished IS NULL
  RETURNING d.id
), recorded AS (
  INSERT INTO webhook_attempts (delivery_id, endpoint_id, event_id, event_type, at, status, error, ok, duration_ms)
  SELECT i.delivery_id, i.endpoint_id, i.event_id, i.event_type, ${fromEpochMs('i.at')}, i.status, i.error,
    i.ok, i.duration_ms
  FROM input i JOIN moved m ON m.id = i.delivery_id
  ORDER BY i.n
)
SELECT id FROM moved`

/** Settles `requests` (distinct deliveries) in one statement; returns the ids that moved. */
export async function settleMany(pool: pg.Pool, requests: readonly SettleRequest[]): Promise<Set<string>> {
  const rows = requests.map(({ owner, deliveryId, attempt, next }, n) => ({
    n,
    delivery_id: deliveryId,
    owner,
    retry_at: 'retryAt' in next ? next.retryAt : null,
    done: 'done' in next ? next.done : null,
    at: attempt.at,
    endpoint_id: attempt.endpointId,
    event_id: attempt.eventId,
    event_type: attempt.eventType,
    status: attempt.status ?? null,
    error: attempt.error ?? null,
    ok: attempt.ok,
    duration_ms: attempt.durationMs,
  }))
  const result = await pool.query<{ id: string }>({
    name: 'webhook_settle_many',
    text: SETTLE_MANY,
    values: [JSON.stringify(rows)],
  })
  return new Set(result.rows.map((row) => row.id))
}

interface Waiting {
  request: SettleRequest
  resolve: (settled: boolean) => void
  reject: (error: unknown) => void
}

/** `settle` with group commit over `pool`: resolves whether the delivery moved. */
export function settleBatcher(pool: pg.Pool): (request: SettleRequest) => Promise<boolean> {
  const queue: Waiting[] = []
  let draining = false

  /** The next batch: in order, each delivery at most once (a second settle of one waits for the next). */
  const takeBatch = (): Waiting[] => {
    const batch: Waiting[] = []
    const ids = new Set<string>()
    for (let index = 0; index < queue.length && batch.length < BATCH; ) {
      const waiting = queue[index]!
      if (ids.has(waiting.request.deliveryId)) index++
      else {
        ids.add(waiting.request.deliveryId)
        batch.push(...queue.splice(index, 1))
      }
    }
    return batch
  }

  const drain = async () => {
    try {
      while (queue.length > 0) {
        const batch = takeBatch()
        try {
          const moved = await settleMany(
            pool,
            batch.map((waiting) => waiting.request),
          )
          for (const waiting of batch) waiting.resolve(moved.has(waiting.request.deliveryId))
        } catch (error) {
          for (const waiting of batch) waiting.reject(error)
        }
      }
    } finally {
      draining = false
    }
  }

  return (request) =>
    new Promise<boolean>((resolve, reject) => {
      queue.push({ request, resolve, reject })
      if (draining) return
      draining = true
      // Nobody waits for a settle (the dispatcher's next attempt does not): it waits a little for company.
      setTimeout(() => void drain(), LINGER_MS)
    })
}
