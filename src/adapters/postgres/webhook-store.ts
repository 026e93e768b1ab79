/**
 * The webhook store on PostgreSQL (`WebhookStore`; tables and triggers of
 * migration 3), shared by every replica: endpoints (`webhook-endpoints.ts`),
 * events, deliveries and claims (`webhook-deliveries.ts`). Nothing is
 * cached but opened secrets, so an endpoint created, disabled or deleted
 * on one replica is what the others see next.
 *
 * Events of messages and accounts are written by the triggers in the same
 * transaction as the change they report: a committed change has its event
 * and its deliveries, a rolled-back one has neither, whatever dies when.
 * `publish` is for events of other origins (and the contract suite).
 *
 * Retention: finished deliveries, attempts and events no delivery needs
 * are deleted once older than `retentionMs`, a bounded batch at most every
 * `sweepEveryMs` on the way into a claim (so that it needs no timer of its
 * own), or all at once by `sweep`.
 */
import type pg from 'pg'
import { ServiceError } from '../../domain/errors.ts'
import type { WebhookStore } from '../../domain/webhooks/ports.ts'
import type { TokenCipher } from '../lowdb/token-cipher.ts'
import { unavailableError } from './connect.ts'
import { claimDue, nextDueAt, pendingCount, publish, replay, sweep } from './webhook-deliveries.ts'
import {
  attempts,
  createEndpoint,
  deleteEndpoint,
  disableEndpoint,
  listEndpoints,
} from './webhook-endpoints.ts'
import { secretOpener } from './webhook-rows.ts'
import { settleBatcher } from './webhook-settles.ts'

export type PostgresWebhookStore = WebhookStore & {
  /** Deletes what is older than the retention; returns how many rows. */
  sweep(): Promise<number>
}

export interface PostgresWebhookOptions {
  /** Default 7 days. */
  retentionMs?: number
  /** Default 10 minutes. */
  sweepEveryMs?: number
}

export function postgresWebhookStore(
  pool: pg.Pool,
  cipher: TokenCipher,
  options: PostgresWebhookOptions = {},
): PostgresWebhookStore {
  const retentionMs = options.retentionMs ?? 7 * 86_400_000
  const sweepEveryMs = options.sweepEveryMs ?? 10 * 60_000
  const open = secretOpener(cipher)
  // Concurrent settles share one statement (group commit).
  const settle = settleBatcher(pool)
  let lastSweep = 0

  const run = async <T>(action: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw webhooksError(error, pool, action)
    }
  }

  return {
    createEndpoint: (endpoint) =>
      run('store the webhook endpoint', () => createEndpoint(pool, cipher, endpoint)),
    listEndpoints: () => run('list the webhook endpoints', () => listEndpoints(pool)),
    deleteEndpoint: (id) => run('delete the webhook endpoint', () => deleteEndpoint(pool, id)),
    disableEndpoint: (id, at, reason) =>
      run('disable the webhook endpoint', () => disableEndpoint(pool, id, at, reason)),
    publish: (events, at) => run('store the webhook events', () => publish(pool, events, at)),
    claimDue: (request) =>
      run('claim due webhook deliveries', async () => {
        if (request.now - lastSweep >= sweepEveryMs) {
          lastSweep = request.now
          await sweep(pool, retentionMs, 1)
        }
        return claimDue(pool, open, request)
      }),
    settle: (request) => run('record the webhook attempt', () => settle(request)),
    attempts: (endpointId, limit) =>
      run('list the webhook attempts', () => attempts(pool, endpointId, limit)),
    replay: (request) => run('replay the webhook event', () => replay(pool, request)),
    nextDueAt: () => run('look for due webhook deliveries', () => nextDueAt(pool)),
    pendingCount: () => run('count the webhook deliveries', () => pendingCount(pool)),
    sweep: () => run('sweep old webhook deliveries', () => sweep(pool, retentionMs)),
  }
}

/** A driver error as this store reports it; a `ServiceError` passes unchanged. */
function webhooksError(error: unknown, pool: pg.Pool, action: string): ServiceError {
  if (error instanceof ServiceError) return error
  const unavailable = unavailableError(error, pool.options.connectionString ?? 'postgres://localhost')
  if (unavailable) return unavailable
  return new ServiceError('STORAGE', `Could not ${action} in the database`, { cause: error })
}
