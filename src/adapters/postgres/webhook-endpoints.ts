/**
 * Webhook endpoints on PostgreSQL (`webhook_endpoints` of migration 3) and
 * the attempts the console lists. The secret is sealed before it reaches
 * the database and never read back by a list. Deleting or disabling an
 * endpoint drops its pending deliveries in the same transaction; the
 * triggers may still add one in a race, which the claim then drops.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { DeliveryAttemptRecord, WebhookEndpoint } from '../../domain/webhooks/event.ts'
import type { WebhookEndpointSummary } from '../../domain/webhooks/ports.ts'
import { type TokenCipher, webhookSecretPurpose } from '../lowdb/token-cipher.ts'
import { fromEpochMs } from './sql-time.ts'
import { inTransaction } from './transaction.ts'
import { ATTEMPT_COLUMNS, attemptFromRow, ENDPOINT_COLUMNS, summaryFromRow } from './webhook-rows.ts'

/** Each endpoint with its last attempt (one index probe each, whatever the history). */
const SUMMARIES = `
SELECT ${ENDPOINT_COLUMNS}, last.*
FROM webhook_endpoints p
LEFT JOIN LATERAL (
  SELECT ${ATTEMPT_COLUMNS} FROM webhook_attempts a WHERE a.endpoint_id = p.id ORDER BY a.seq DESC LIMIT 1
) last ON true`

export async function createEndpoint(
  pool: pg.Pool,
  cipher: TokenCipher,
  endpoint: WebhookEndpoint,
): Promise<void> {
  const sealed = await cipher.encrypt(endpoint.secret, webhookSecretPurpose(endpoint.id))
  try {
    await pool.query(
      `INSERT INTO webhook_endpoints (id, url, events, sealed_secret, created_at, disabled_at, disabled_reason)
       VALUES ($1, $2, $3, $4, ${fromEpochMs('$5')}, ${fromEpochMs('$6')}, $7)`,
      [
        endpoint.id,
        endpoint.url,
        endpoint.events,
        sealed,
        endpoint.createdAt,
        endpoint.disabledAt ?? null,
        endpoint.disabledReason ?? null,
      ],
    )
  } catch (error) {
    if ((error as { code?: unknown }).code === '23505') {
      throw new ServiceError(
        'CONFLICT',
        `A webhook endpoint has the id ${JSON.stringify(endpoint.id)} already`,
        {
          cause: error,
        },
      )
    }
    throw error
  }
}

export async function listEndpoints(pool: pg.Pool): Promise<WebhookEndpointSummary[]> {
  const { rows } = await pool.query(`${SUMMARIES} ORDER BY p.seq`)
  return rows.map(summaryFromRow)
}

export async function deleteEndpoint(pool: pg.Pool, id: string): Promise<WebhookEndpointSummary | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query(`${SUMMARIES} WHERE p.id = $1 FOR UPDATE OF p`, [id])
    if (rows[0] === undefined) return undefined
    const summary = summaryFromRow(rows[0])
    await client.query('DELETE FROM webhook_deliveries WHERE endpoint_id = $1', [id])
    await client.query('DELETE FROM webhook_attempts WHERE endpoint_id = $1', [id])
    await client.query('DELETE FROM webhook_endpoints WHERE id = $1', [id])
    return summary
  })
}

export async function disableEndpoint(pool: pg.Pool, id: string, at: number, reason: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(
      `UPDATE webhook_endpoints SET disabled_at = ${fromEpochMs('$2')}, disabled_reason = $3
       WHERE id = $1 AND disabled_at IS NULL`,
      [id, at, reason],
    )
    await client.query('DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND finished IS NULL', [id])
  })
}

export async function attempts(
  pool: pg.Pool,
  endpointId: string,
  limit: number,
): Promise<DeliveryAttemptRecord[]> {
  const count = Math.max(0, Math.floor(limit))
  if (count === 0) return []
  const { rows } = await pool.query(
    `SELECT ${ATTEMPT_COLUMNS} FROM webhook_attempts a WHERE a.endpoint_id = $1 ORDER BY a.seq DESC LIMIT $2`,
    [endpointId, count],
  )
  return rows.map(attemptFromRow)
}
