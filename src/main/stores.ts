/**
 * Where the service keeps what it must not lose: lowdb files in DATA_DIR
 * (one process), or PostgreSQL when DATABASE_URL is set (any number of
 * replicas sharing the outbox, the accounts, the quota and the signals).
 * The wiring picks one here; everything above sees only the ports.
 */
import { hostname } from 'node:os'
import { probeWritable } from '../adapters/data-dir/data-dir.ts'
import { createFreeSpaceMeter } from '../adapters/data-dir/free-space.ts'
import type { JsonLogger } from '../adapters/log/json-logger.ts'
import { openAccountRepository } from '../adapters/lowdb/account-store.ts'
import { openApiKeyStore } from '../adapters/lowdb/api-key-store.ts'
import { openLargeBodyFiles } from '../adapters/lowdb/large-body-files.ts'
import { openOutboxRepository } from '../adapters/lowdb/outbox-store.ts'
import type { TokenCipher } from '../adapters/lowdb/token-cipher.ts'
import { openUploadFiles } from '../adapters/lowdb/upload-files.ts'
import { openWebhookStore } from '../adapters/lowdb/webhook-store.ts'
import { postgresAccounts } from '../adapters/postgres/account-repository.ts'
import { postgresApiKeys } from '../adapters/postgres/api-keys.ts'
import { postgresAuthorizationStates } from '../adapters/postgres/authorization-states.ts'
import {
  asynchronousCommitWarning,
  connectPostgres,
  describeDatabase,
  openPostgres,
} from '../adapters/postgres/connect.ts'
import { postgresLargeBodyStore } from '../adapters/postgres/large-body-store.ts'
import { migrate } from '../adapters/postgres/migrate.ts'
import { postgresOutbox } from '../adapters/postgres/outbox-repository.ts'
import { postgresRefreshCoordinator } from '../adapters/postgres/refresh-coordinator.ts'
import { postgresRequestBudget } from '../adapters/postgres/request-budget.ts'
import { postgresSendQuota } from '../adapters/postgres/send-quota.ts'
import { postgresSignOuts } from '../adapters/postgres/sign-outs.ts'
import { postgresSignals } from '../adapters/postgres/signals.ts'
import { postgresUploadStore } from '../adapters/postgres/upload-store.ts'
import { postgresWebhookStore } from '../adapters/postgres/webhook-store.ts'
import type { Config } from '../app/config.ts'
import { createStorageGuard, type StorageGuard } from '../app/storage-guard.ts'
import type { MessageUploads } from '../app/uploads/compose-uploads.ts'
import { withChangeEvents } from '../app/webhooks/change-events.ts'
import type { ApiKeyStore } from '../domain/api-keys/api-key.ts'
import type {
  AccountRepository,
  AuthorizationStates,
  Clock,
  FleetSignals,
  OutboxClaims,
  OutboxRepository,
  RefreshCoordinator,
  RequestBudget,
  SendQuotaPort,
  SignOuts,
} from '../domain/ports.ts'
import type { WebhookStore } from '../domain/webhooks/ports.ts'

interface Common {
  accounts: AccountRepository
  /** API keys made at run time (digests only), shared by every replica of the store. */
  apiKeys: ApiKeyStore
  outbox: OutboxRepository & { sweep(): Promise<number>; close(): Promise<void> }
  /**
   * Webhook endpoints, events and deliveries. PostgreSQL writes events in the
   * transaction of each change (triggers); lowdb derives them in the process
   * (`outbox` and `accounts` here are wrapped by `withChangeEvents`).
   */
  webhooks: WebhookStore
  /**
   * Hears of events this process published (lowdb: after each change that
   * reports one), so that the dispatcher sends them at once; PostgreSQL:
   * the triggers' NOTIFY, from any replica (a lost one is covered by the
   * dispatcher's poll). Returns the unsubscribe.
   */
  onEventsPublished(listener: () => void): () => void
  /** Why the store cannot serve now, or undefined. */
  problem(): Promise<string | undefined>
  /** Attachments sent to POST /uploads, and the bodies of messages composed from them. */
  uploads: MessageUploads
  close(): Promise<void>
}

export type Stores =
  | (Common & {
      kind: 'lowdb'
      storage: StorageGuard
      /** The outbox's fsyncs and O_DSYNC writes so far (its journal, bodies, history, snapshot). */
      syncs(): number
    })
  | (Common & {
      kind: 'postgres'
      outbox: Common['outbox'] & OutboxClaims
      quota: SendQuotaPort
      signals: FleetSignals
      /** OAuth logins in progress, admin sign-outs and the per-key request budget, shared by the fleet. */
      states: AuthorizationStates
      signOuts: SignOuts
      requestBudget: RequestBudget
      /** Token refreshes one at a time per account across the fleet. */
      refresh: RefreshCoordinator
      /** This replica's name in claims. */
      owner: string
    })

export async function openStores(options: {
  config: Config
  clock: Clock
  logger: JsonLogger
  cipher: TokenCipher
}): Promise<Stores> {
  const { config, clock, logger, cipher } = options
  if (config.databaseUrl !== undefined)
    return openPostgresStores({ ...options, databaseUrl: config.databaseUrl })
  const storedAccounts = await openAccountRepository({ dataDir: config.dataDir, cipher })
  const apiKeys = await openApiKeyStore({ dataDir: config.dataDir })
  const storedOutbox = await openOutboxRepository({
    dataDir: config.dataDir,
    clock,
    retentionMs: config.retentionMs,
    // Every repair made on open, with the file and line or ids, never content.
    onNotice: (message, fields) => logger.warn(message, fields),
  })
  const webhooks = await openWebhookStore({ dataDir: config.dataDir, cipher, clock })
  const published = new Set<() => void>()
  const { outbox, accounts, reconcile, settled } = withChangeEvents(
    { outbox: storedOutbox, accounts: storedAccounts },
    {
      journal: {
        wants: (types) => webhooks.wants(types),
        note: (changes, noteOptions) => webhooks.note(changes, noteOptions),
        noted: () => webhooks.noted(),
        async conclude(keys, events, at) {
          await webhooks.conclude(keys, events, at)
          if (events.length > 0) for (const listener of [...published]) listener()
        },
      },
      clock,
      onError: () =>
        logger.warn(
          'Webhook events could not be stored after their change; they follow with the next change',
        ),
    },
  )
  // Changes a stop cut off from their events (after the change, before the event) are reported now.
  await reconcile().catch(() =>
    logger.warn(
      'Webhook events of changes interrupted by a stop could not be stored; they follow with the next change',
    ),
  )
  const uploads: MessageUploads = {
    store: await openUploadFiles({ dataDir: config.dataDir, clock }),
    bodies: await openLargeBodyFiles({ dataDir: config.dataDir, clock }),
  }
  const storage = createStorageGuard({
    space: createFreeSpaceMeter(config.dataDir),
    minFreeBytes: config.minFreeBytes,
    logger,
  })
  return {
    kind: 'lowdb',
    accounts,
    apiKeys,
    outbox,
    webhooks,
    onEventsPublished(listener) {
      published.add(listener)
      return () => published.delete(listener)
    },
    storage,
    syncs: () => storedOutbox.syncs(),
    uploads,
    async problem() {
      const space = await storage.problem()
      if (space !== undefined) return space
      if (!(await probeWritable(config.dataDir))) return 'DATA_DIR is not writable'
      return undefined
    },
    async close() {
      // Events of the last changes are published before their store closes.
      await settled()
      await outbox.close()
      await webhooks.close()
    },
  }
}

async function openPostgresStores(options: {
  config: Config
  logger: JsonLogger
  cipher: TokenCipher
  databaseUrl: string
}): Promise<Stores> {
  const { config, logger, cipher, databaseUrl } = options
  const where = describeDatabase(databaseUrl)
  const pool = await connectPostgres(databaseUrl, {
    onIdleError: () =>
      logger.warn('A PostgreSQL connection broke; the pool opens a new one', { database: where }),
  })
  const asynchronous = await asynchronousCommitWarning(pool)
  if (asynchronous !== undefined) logger.warn(asynchronous, { database: where })
  const migrated = await migrate(pool)
  if (migrated.applied.length > 0) {
    logger.info('Database schema migrated', {
      database: where,
      version: migrated.version,
      applied: migrated.applied,
    })
  }
  const signals = postgresSignals({
    pool,
    databaseUrl,
    onError: (message) => logger.warn(message, { database: where }),
    // The outbox's statements NOTIFY of new mail themselves, at their commit.
    outboxAnnouncesMail: true,
  })
  const outbox = postgresOutbox(pool, { retentionMs: config.retentionMs })
  // A few connections of its own: a refresh lock is held while the refresh uses `pool`.
  const refreshLocks = openPostgres(databaseUrl, {
    max: 4,
    onIdleError: () =>
      logger.warn('A PostgreSQL connection broke; the pool opens a new one', { database: where }),
  })
  return {
    kind: 'postgres',
    accounts: postgresAccounts(pool, cipher),
    apiKeys: postgresApiKeys(pool),
    outbox,
    webhooks: postgresWebhookStore(pool, cipher),
    // The triggers notify when they add deliveries; the dispatcher's poll covers a lost notification.
    onEventsPublished: (listener) => signals.onWebhooks(listener),
    quota: postgresSendQuota(pool),
    signals,
    states: postgresAuthorizationStates(pool, cipher),
    signOuts: postgresSignOuts(pool),
    requestBudget: postgresRequestBudget(pool, {
      perMinute: config.apiRateLimitPerMinute,
      burst: config.apiRateBurst,
    }),
    refresh: postgresRefreshCoordinator(refreshLocks),
    uploads: { store: postgresUploadStore(pool), bodies: postgresLargeBodyStore(pool) },
    owner: config.replicaId ?? `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
    async problem() {
      try {
        await pool.query('SELECT 1')
        return undefined
      } catch {
        return `The database (PostgreSQL at ${where}) cannot be reached; accepted mail waits there, nothing is lost`
      }
    },
    async close() {
      await outbox.close()
      await signals.close()
      await refreshLocks.end()
      await pool.end()
    },
  }
}
