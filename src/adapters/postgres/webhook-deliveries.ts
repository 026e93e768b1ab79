/**
 * Events and deliveries on PostgreSQL (migration 3): publication (the
 * port's; the triggers publish with the changes themselves), claims with
 * `FOR UPDATE SKIP LOCKED` and a lease (as `outbox-claims.ts`: replicas
 * claiming at once each get other deliveries, and none waits), replays,
 * and the retention sweep (settlement, by the lease's holder only, is
 * `webhook-settles.ts`). Each call is one statement: atomic without a
 * transaction of its own; the hot ones are prepared once per connection.
 *
 * A claim moves `due_at` to the end of its lease, so that the one partial
 * index of pending deliveries by `due_at` finds due ones, expired leases
 * and the next wake-up alike. A claimed delivery whose endpoint is gone or
 * disabled (a race with the admin) is deleted instead of handed out.
 */
import type pg from 'pg'
import type { DeliveryJob, WebhookEvent } from '../../domain/webhooks/event.ts'
import { epochMs, fromEpochMs, msInterval } from './sql-time.ts'
import { ENDPOINT_COLUMNS, endpointFromRow } from './webhook-rows.ts'

/** Rows one statement of the sweep deletes at most. */
const SWEEP_BATCH = 1_000

const NEW_DELIVERY_ID = `'dlv_' || replace(gen_random_uuid()::text, '-', '')`
const SUBSCRIBED = (type: string) => `p.disabled_at IS NULL AND (p.events = '{}' OR ${type} = ANY (p.events))`

const PUBLISH = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id text, type text, at float8, data jsonb)
), wanted AS (
  SELECT DISTINCT ON (i.id) i.* FROM input i
  WHERE EXISTS (SELECT 1 FROM webhook_endpoints p WHERE ${SUBSCRIBED('i.type')})
), stored AS (
  INSERT INTO webhook_events (id, type, at, data)
  SELECT id, type, ${fromEpochMs('at')}, data FROM wanted
  ON CONFLICT (id) DO NOTHING
  RETURNING id, type
)
INSERT INTO webhook_deliveries (id, event_id, endpoint_id, due_at, first_due_at)
SELECT ${NEW_DELIVERY_ID}, s.id, p.id, ${fromEpochMs('$2')}, ${fromEpochMs('$2')}
FROM stored s JOIN webhook_endpoints p ON ${SUBSCRIBED('s.type')}`

const CLAIM = `
WITH picked AS (
  SELECT d.id, (p.id IS NULL OR p.disabled_at IS NOT NULL) AS dropped
  FROM webhook_deliveries d LEFT JOIN webhook_endpoints p ON p.id = d.endpoint_id
  WHERE d.finished IS NULL AND d.due_at <= ${fromEpochMs('$1')}
  ORDER BY d.due_at, d.seq
  LIMIT $2
  FOR UPDATE OF d SKIP LOCKED
), dropped AS (
  DELETE FROM webhook_deliveries d USING picked WHERE d.id = picked.id AND picked.dropped
), claimed AS (
  UPDATE webhook_deliveries d
  SET locked_by = $3, lease_until = ${fromEpochMs('($1::float8 + $4::float8)')},
    due_at = ${fromEpochMs('($1::float8 + $4::float8)')}
  FROM picked WHERE d.id = picked.id AND NOT picked.dropped
  RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, d.first_due_at, d.seq
)
SELECT c.id AS delivery_id, c.attempts, ${epochMs('c.first_due_at')} AS first_due_at,
  e.id AS event_id, e.type AS event_type, ${epochMs('e.at')} AS event_at, e.data AS event_data,
  ${ENDPOINT_COLUMNS}
FROM claimed c
JOIN webhook_events e ON e.id = c.event_id
JOIN webhook_endpoints p ON p.id = c.endpoint_id
ORDER BY c.first_due_at, c.seq`

const REPLAY = `
INSERT INTO webhook_deliveries (id, event_id, endpoint_id, due_at, first_due_at)
SELECT $1, e.id, p.id, ${fromEpochMs('$4')}, ${fromEpochMs('$4')}
FROM webhook_events e, webhook_endpoints p
WHERE e.id = $2 AND p.id = $3 AND p.disabled_at IS NULL`

// now(), not clock_timestamp(): a stable value can be compared through the indexes (a volatile one cannot).
const CUTOFF = `now() - ${msInterval('$1')}`

const SWEEPS = [
  `DELETE FROM webhook_deliveries WHERE id IN (
     SELECT id FROM webhook_deliveries WHERE finished IS NOT NULL AND finished_at < ${CUTOFF}
     ORDER BY finished_at LIMIT ${SWEEP_BATCH})`,
  `DELETE FROM webhook_attempts WHERE seq IN (
     SELECT seq FROM webhook_attempts WHERE at < ${CUTOFF} ORDER BY at LIMIT ${SWEEP_BATCH})`,
  `DELETE FROM webhook_events WHERE id IN (
     SELECT e.id FROM webhook_events e WHERE e.at < ${CUTOFF}
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
     ORDER BY e.at LIMIT ${SWEEP_BATCH})`,
]

export async function publish(pool: pg.Pool, events: readonly WebhookEvent[], at: number): Promise<void> {
  if (events.length === 0) return
  await pool.query(PUBLISH, [JSON.stringify(events), at])
}

export async function claimDue(
  pool: pg.Pool,
  open: (endpointId: string, sealed: string) => Promise<string>,
  request: { owner: string; now: number; leaseMs: number; limit: number },
): Promise<DeliveryJob[]> {
  const limit = Math.max(0, Math.floor(request.limit))
  if (limit === 0) return []
  const { rows } = await pool.query({
    name: 'webhook_claim',
    text: CLAIM,
    values: [request.now, limit, request.owner, request.leaseMs],
  })
  return Promise.all(
    rows.map(async (row) => ({
      id: row.delivery_id as string,
      endpoint: await endpointFromRow(row, open),
      event: {
        id: row.event_id as string,
        type: row.event_type as WebhookEvent['type'],
        at: Math.round(row.event_at as number),
        data: row.event_data as Record<string, unknown>,
      },
      attempts: row.attempts as number,
      firstDueAt: Math.round(row.first_due_at as number),
    })),
  )
}

export async function replay(
  pool: pg.Pool,
  request: { endpointId: string; eventId: string; at: number; deliveryId: string },
): Promise<boolean> {
  const result = await pool.query(REPLAY, [
    request.deliveryId,
    request.eventId,
    request.endpointId,
    request.at,
  ])
  return result.rowCount === 1
}

export async function nextDueAt(pool: pg.Pool): Promise<number | undefined> {
  const { rows } = await pool.query<{ at: number | null }>({
    name: 'webhook_next_due',
    text: `SELECT ${epochMs('min(due_at)')} AS at FROM webhook_deliveries WHERE finished IS NULL`,
  })
  const at = rows[0]?.at ?? null
  return at === null ? undefined : Math.round(at)
}

export async function pendingCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM webhook_deliveries WHERE finished IS NULL`,
  )
  return rows[0]?.n ?? 0
}

/**
 * Deletes finished deliveries, attempts and unneeded events older than
 * `retentionMs`, at most `rounds` batches of each; returns how many rows.
 */
export async function sweep(
  pool: pg.Pool,
  retentionMs: number,
  rounds = Number.POSITIVE_INFINITY,
): Promise<number> {
  let swept = 0
  for (const statement of SWEEPS) {
    for (let round = 0; round < rounds; round++) {
      const { rowCount } = await pool.query(statement, [retentionMs])
      swept += rowCount ?? 0
      if ((rowCount ?? 0) < SWEEP_BATCH) break
    }
  }
  return swept
}
