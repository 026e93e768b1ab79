/**
 * Driver errors of the small shared stores (OAuth states, sign-outs, request
 * budgets) as the service reports them: an unreachable database is
 * `SERVICE_UNAVAILABLE` (retryable, see `connect.ts`), anything else
 * `STORAGE`; a `ServiceError` passes unchanged.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import { unavailableError } from './connect.ts'

/** `action` completes "could not … in the database", e.g. "remember the sign-out". */
export function databaseError(error: unknown, pool: pg.Pool, action: string): ServiceError {
  if (error instanceof ServiceError) return error
  const unavailable = unavailableError(error, databaseUrlOf(pool))
  if (unavailable) return unavailable
  return new ServiceError('STORAGE', `The service could not ${action} in the database`, { cause: error })
}

/** Runs `work`, translating whatever the driver throws. */
export async function inDatabase<T>(pool: pg.Pool, action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw databaseError(error, pool, action)
  }
}

/** The pool's URL for messages (`describeDatabase` shows only host, port and database). */
function databaseUrlOf(pool: pg.Pool): string {
  const url = pool.options.connectionString
  try {
    if (url !== undefined) new URL(url)
    return url ?? 'postgres://localhost'
  } catch {
    return 'postgres://localhost'
  }
}
