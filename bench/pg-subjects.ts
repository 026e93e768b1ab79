/**
 * The two PostgreSQL drivers measured by `bench/pg-drivers.ts`, behind one
 * small interface doing what PostgreSQL mode will do: accept a message
 * (one transaction: the message row, its ~4 KB body, its idempotency key),
 * claim due messages with a lease, and a LISTEN/NOTIFY round trip. Each
 * driver is used the way its documentation recommends for hot statements:
 * postgres.js prepares its tagged queries by default; node-postgres is given
 * a statement `name`, so that it prepares them too, and postgres.js pipelines
 * the statements of a transaction (node-postgres cannot). A repeated
 * idempotency key fails its insert (unique violation) and rolls back.
 */
import pg from 'pg'
import postgres from 'postgres'

export type DriverName = 'postgres' | 'pg'

export interface Subject {
  name: DriverName
  /** One acceptance transaction for message `id`. */
  accept(id: string, body: Uint8Array): Promise<void>
  /** Claims up to `limit` due messages for `worker`; the ids claimed. */
  claim(worker: string, limit: number): Promise<string[]>
  /** Milliseconds from NOTIFY on one connection to the listener's callback on another. */
  notifyRoundTrip(payload: string): Promise<number>
  end(): Promise<void>
}

/** The service's default pool size: 32 concurrent callers queue for 10 connections. */
export const POOL_SIZE = 10
const CHANNEL = 'bench_pg_drivers'

const INSERT_MESSAGE = `INSERT INTO messages (id, account, from_header, to_addresses, subject, status,
  created_at, next_attempt_at, size, body_sha256, message_id_header, idempotency_key, input_hash)
  VALUES ($1, 'ann@example.com', 'Ann <ann@example.com>', ARRAY['bob@example.com'], 'Hello', 'queued',
  now(), now(), $2, $3, $4, $5, $6)`
const INSERT_BODY = 'INSERT INTO message_bodies (message_id, raw) VALUES ($1, $2)'
const INSERT_KEY = `INSERT INTO idempotency_keys (namespace, key, message_id, input_hash)
  VALUES ('bench', $1, $2, $3)`
/** The claim of PostgreSQL mode: oldest due first, rows another replica holds skipped, a 30 s lease. */
const CLAIM = `UPDATE messages SET status = 'sending', locked_by = $1, lease_until = now() + interval '30 seconds',
  attempts = attempts + 1, updated_at = now()
  WHERE id IN (
    SELECT id FROM messages
    WHERE status IN ('queued', 'scheduled') AND next_attempt_at <= now()
    ORDER BY next_attempt_at, seq
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
  RETURNING id, lease_until`

function acceptParams(id: string, body: Uint8Array) {
  return { size: body.length, sha: 'f'.repeat(64), header: `<${id}@bench>`, key: `key-${id}`, hash: 'h' }
}

/** Resolves the round trip of each payload when the listener sees it. */
function notifyWaiters() {
  const waiting = new Map<string, () => void>()
  return {
    wait(payload: string): Promise<void> {
      return new Promise((resolve) => waiting.set(payload, resolve))
    },
    seen(payload: string | undefined): void {
      if (payload === undefined) return
      waiting.get(payload)?.()
      waiting.delete(payload)
    },
  }
}

export async function postgresJs(url: string): Promise<Subject> {
  const sql = postgres(url, { max: POOL_SIZE, connect_timeout: 5, idle_timeout: 30, onnotice: () => {} })
  const waiters = notifyWaiters()
  await sql.listen(CHANNEL, (payload) => waiters.seen(payload))
  return {
    name: 'postgres',
    async accept(id, body) {
      const p = acceptParams(id, body)
      // Pipelined, postgres.js's way: the three inserts go out together after BEGIN. A repeated key
      // fails the third with a unique violation, and the whole transaction rolls back.
      await sql.begin((tx) => [
        tx`INSERT INTO messages (id, account, from_header, to_addresses, subject, status,
          created_at, next_attempt_at, size, body_sha256, message_id_header, idempotency_key, input_hash)
          VALUES (${id}, 'ann@example.com', 'Ann <ann@example.com>', ARRAY['bob@example.com'], 'Hello', 'queued',
          now(), now(), ${p.size}, ${p.sha}, ${p.header}, ${p.key}, ${p.hash})`,
        tx`INSERT INTO message_bodies (message_id, raw) VALUES (${id}, ${body})`,
        tx`INSERT INTO idempotency_keys (namespace, key, message_id, input_hash)
          VALUES ('bench', ${p.key}, ${id}, ${p.hash})`,
      ])
    },
    async claim(worker, limit) {
      const rows = await sql.unsafe<Array<{ id: string }>>(CLAIM, [worker, limit], { prepare: true })
      return rows.map((row) => row.id)
    },
    async notifyRoundTrip(payload) {
      const seen = waiters.wait(payload)
      const started = performance.now()
      await sql.notify(CHANNEL, payload)
      await seen
      return performance.now() - started
    },
    end: () => sql.end({ timeout: 5 }),
  }
}

export async function nodePostgres(url: string): Promise<Subject> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: 5_000 })
  const listener = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await listener.connect()
  const waiters = notifyWaiters()
  listener.on('notification', (message) => waiters.seen(message.payload))
  await listener.query(`LISTEN ${CHANNEL}`)
  return {
    name: 'pg',
    async accept(id, body) {
      const p = acceptParams(id, body)
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await client.query({
          name: 'insert-message',
          text: INSERT_MESSAGE,
          values: [id, p.size, p.sha, p.header, p.key, p.hash],
        })
        await client.query({ name: 'insert-body', text: INSERT_BODY, values: [id, body] })
        await client.query({ name: 'insert-key', text: INSERT_KEY, values: [p.key, id, p.hash] })
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    },
    async claim(worker, limit) {
      const result = await pool.query<{ id: string }>({ name: 'claim', text: CLAIM, values: [worker, limit] })
      return result.rows.map((row) => row.id)
    },
    async notifyRoundTrip(payload) {
      const seen = waiters.wait(payload)
      const started = performance.now()
      await pool.query({ name: 'notify', text: 'SELECT pg_notify($1, $2)', values: [CHANNEL, payload] })
      await seen
      return performance.now() - started
    },
    async end() {
      await listener.end()
      await pool.end()
    },
  }
}

export const SUBJECTS: Record<DriverName, (url: string) => Promise<Subject>> = {
  postgres: postgresJs,
  pg: nodePostgres,
}
