/**
 * The PostgreSQL stores' way to the database: a transaction on one pooled
 * connection, and the translation of driver errors into `ServiceError`s
 * (an unreachable database is `SERVICE_UNAVAILABLE`, see `connect.ts`).
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import { unavailableError } from './connect.ts'

/**
 * Runs `work` between BEGIN and COMMIT on one connection; anything thrown
 * rolls back. A connection whose transaction could not be begun or rolled
 * back is discarded, not returned to the pool.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    try {
      await client.query('BEGIN')
    } catch (error) {
      broken = error as Error
      throw error
    }
    try {
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => {
        broken = rollback
      })
      throw error
    }
  } finally {
    client.release(broken)
  }
}

/** A driver error as the outbox reports it, for `action` ("store the messages"); a `ServiceError` passes unchanged. */
export function outboxError(error: unknown, pool: pg.Pool, action: string): ServiceError {
  if (error instanceof ServiceError) return error
  let unavailable: ServiceError | undefined
  try {
    unavailable = unavailableError(error, pool.options.connectionString ?? 'postgres://localhost')
  } catch {
    unavailable = unavailableError(error, 'postgres://localhost')
  }
  if (unavailable) return unavailable
  return new ServiceError('STORAGE', `The outbox could not ${action} in the database`, { cause: error })
}
