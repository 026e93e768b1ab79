/**
 * The composition root: the one place that builds the adapters, wires them
 * into the use cases, and hands the HTTP app to a runtime entry point
 * (`src/main/node.ts` for Node, `src/main/deno.ts` for Deno).
 */
import { createHash } from 'node:crypto'
import type { Hono } from 'hono'
import { ensureDataDir } from '../adapters/data-dir/data-dir.ts'
import { gmailServiceError } from '../adapters/gmail/errors.ts'
import { createGmailTransport } from '../adapters/gmail/transport.ts'
import { createGoogleOAuth } from '../adapters/google-oauth/oauth.ts'
import { createAdminSessions } from '../adapters/http/admin-session.ts'
import { createHttpApp } from '../adapters/http/app.ts'
import { createClientAddress } from '../adapters/http/client-address.ts'
import { sha256Hex } from '../adapters/http/secrets.ts'
import { createJsonLogger, type JsonLogger } from '../adapters/log/json-logger.ts'
import { type AccountListener, createAccountService } from '../app/accounts.ts'
import { createApiKeys } from '../app/api-keys/api-keys.ts'
import { createAuthFailureGuard } from '../app/auth-failures.ts'
import { createAuthorization } from '../app/authorization.ts'
import type { Config } from '../app/config.ts'
import { createCredentialSessions } from '../app/credential-sessions.ts'
import { createDeliveryEngine, type DeliveryEngine } from '../app/delivery/engine.ts'
import { createFleetEngine } from '../app/delivery/fleet-engine.ts'
import { createExpiryWatch } from '../app/expiry-watch.ts'
import { createMailService } from '../app/mail-service.ts'
import { memoryAuthorizationStates } from '../app/memory-authorization-states.ts'
import { memoryRequestBudget } from '../app/memory-request-budget.ts'
import { createMessageIds } from '../app/message-id.ts'
import { realScheduler, type Scheduler } from '../app/scheduler.ts'
import type { Clock } from '../domain/ports.ts'
import { collectAll } from './garbage-collector.ts'
import { serviceMetrics } from './metrics.ts'
import { createReadiness } from './readiness.ts'
import { prepareSandbox, type Sandbox } from './sandbox.ts'
import { openSecrets } from './secrets.ts'
import { openStores } from './stores.ts'
import { composeUploads } from './uploads.ts'
import { composeWebhooks } from './webhooks.ts'

export interface ComposeOptions {
  config: Config
  /** The port the server actually bound (differs from config.port when that is 0). */
  boundPort: number
  logger?: JsonLogger
  clock?: Clock
  scheduler?: Scheduler
}

export interface Service {
  app: Hono
  config: Config
  logger: JsonLogger
  /** Present in sandbox mode: what the person who started it needs to know. */
  sandbox?: Sandbox
  /**
   * Stops delivery (in-flight sends may finish until the deadline), waits for
   * `drainRequests` (the entry point's in-flight HTTP answers), then flushes
   * and closes storage.
   */
  shutdown(options?: { drainRequests?: () => Promise<void> }): Promise<void>
}

const hourMs = 3_600_000

export async function composeService(options: ComposeOptions): Promise<Service> {
  const clock = options.clock ?? { now: () => Date.now() }
  const scheduler = options.scheduler ?? realScheduler
  const logger = options.logger ?? createJsonLogger({ level: options.config.logLevel })
  let config = options.config
  if (!config.publicUrlFixed) config = { ...config, publicUrl: `http://localhost:${options.boundPort}` }

  // PostgreSQL mode keeps nothing in DATA_DIR but the sandbox's own files.
  if (config.databaseUrl === undefined || config.google === undefined) await ensureDataDir(config.dataDir)
  const sandbox =
    config.google === undefined ? await prepareSandbox(config, options.boundPort, clock, logger) : undefined
  if (sandbox) config = sandbox.config

  const google = config.google!
  const adminToken = config.adminToken!
  const cipher = openSecrets(config, logger)
  const stores = await openStores({ config, clock, logger, cipher })
  const accountsRepo = stores.accounts
  const outbox = stores.outbox
  const observed = serviceMetrics({ stores, logger, token: config.metricsToken })

  const oauth = createGoogleOAuth({
    clientId: google.clientId,
    clientSecret: google.clientSecret,
    redirectUri: `${config.publicUrl}/oauth/callback`,
    authUrl: config.endpoints.authUrl,
    tokenUrl: config.endpoints.tokenUrl,
    revokeUrl: config.endpoints.revokeUrl,
    userinfoUrl: config.endpoints.userinfoUrl,
    now: () => clock.now(),
  })

  // Late-bound: the account service and the delivery engine each need to tell the other.
  let delivery: DeliveryEngine | undefined
  let forget: (email: string) => void = () => {}
  // Every replica forgets its cached credentials when another changes an account.
  const announceAccount = (email: string) => {
    if (stores.kind === 'postgres') stores.signals.publish('accounts', email).catch(() => undefined)
  }
  const listener: AccountListener = {
    connected(email) {
      forget(email)
      announceAccount(email)
      void delivery?.release(email)
    },
    reauthorizationRequired(email) {
      forget(email)
      announceAccount(email)
      void delivery?.hold(email)
    },
    disconnected(email) {
      forget(email)
      announceAccount(email)
      void delivery?.hold(email)
    },
  }
  const accounts = createAccountService({ accounts: accountsRepo, oauth, clock, logger, listener })
  const sessions = createCredentialSessions({
    getAccount: (email) => accounts.get(email),
    createClient: (credentials, onTokens) => oauth.authorizedClient(credentials, onTokens),
    // A dead refresh token is REAUTHORIZATION_REQUIRED, as in the send's own token stage.
    refresh: (client) =>
      client.getAccessToken().then(
        () => undefined,
        (error: unknown) => Promise.reject(gmailServiceError(error, { stage: 'token', now: clock.now() })),
      ),
    onTokens: (email, tokens) =>
      accounts
        .recordTokens(email, tokens)
        .catch(() => logger.error('Could not store refreshed tokens', { account: email })),
    clock,
    metrics: observed.metrics,
    // One token request per expiry for the whole fleet on PostgreSQL.
    ...(stores.kind === 'postgres' ? { coordinator: stores.refresh } : {}),
  })
  forget = (email) => sessions.forget(email)
  const unsubscribeAccounts =
    stores.kind === 'postgres'
      ? stores.signals.subscribe((topic, detail) => {
          if (topic !== 'accounts') return
          if (detail !== undefined) sessions.forget(detail)
          else
            void accounts.list().then((all) => {
              for (const account of all) sessions.forget(account.email)
            })
        })
      : () => {}

  const storage = stores.kind === 'lowdb' ? stores.storage : undefined
  const { messageUploads, uploads, uploadJanitor } = composeUploads({ stores, config, scheduler, logger })
  const gmail = observed.gmail(
    createGmailTransport({
      rootUrl: config.endpoints.gmailApiUrl,
      authFor: (email) => sessions.clientFor(email),
    }),
  )
  const engineOptions = {
    gmail,
    clock,
    scheduler,
    random: Math.random,
    logger,
    limits: { perMinute: config.sendsPerMinute, perDay: config.sendsPerDay },
    concurrency: config.sendConcurrency,
    giveUpAfterMs: config.giveUpAfterMs,
    backoff: { baseMs: config.retryBaseMs, capMs: config.retryMaxMs },
    onReauthorizationRequired: (email: string) => {
      void accounts.markReauthorizationRequired(email)
    },
    metrics: observed.metrics,
    largeBodies: messageUploads.bodies,
  }
  delivery =
    stores.kind === 'postgres'
      ? createFleetEngine({
          ...engineOptions,
          outbox: stores.outbox,
          quota: stores.quota,
          signals: stores.signals,
          owner: stores.owner,
          leaseMs: config.claimLeaseMs,
          pollMs: config.fleetPollMs,
          accountStates: async () =>
            new Map((await accountsRepo.list()).map((account) => [account.email, account.status])),
        })
      : createDeliveryEngine({ ...engineOptions, outbox, ...(storage ? { storage } : {}) })
  for (const account of await accounts.list()) {
    if (account.status !== 'connected') await delivery.hold(account.email)
  }
  await delivery.start()

  const mail = createMailService({
    outbox,
    delivery,
    accounts,
    clock,
    newId: createMessageIds(() => clock.now()),
    newBoundary: () => `=_${crypto.randomUUID().replace(/-/g, '')}`,
    // Synchronous: WebCrypto's digest copies the body and queues behind the outbox's fsyncs.
    sha256: (bytes) => createHash('sha256').update(bytes).digest('hex'),
    sendWaitMs: config.sendWaitMs,
    ...(storage ? { storage } : {}),
    uploads: messageUploads,
    reclaimMemory: collectAll,
  })
  const engine = delivery
  const authorization = createAuthorization({
    oauth,
    accounts,
    clock,
    logger,
    states: stores.kind === 'postgres' ? stores.states : memoryAuthorizationStates(),
    newState: () => crypto.randomUUID().replace(/-/g, '') + crypto.randomUUID().replace(/-/g, ''),
    onConnected: async (email) => {
      sessions.forget(email)
      return engine.release(email)
    },
    appTesting: config.googleAppTesting,
  })
  // Warns 24 h before Google ends a refresh token (the record is the account.expiring event).
  const expiryWatch = createExpiryWatch({ accounts, clock, scheduler, logger })
  expiryWatch.start()

  // Signed webhooks: claimed like messages (one process at a time per delivery), sent at least once.
  const webhooks = composeWebhooks({ stores, config, clock, scheduler, logger, metrics: observed.metrics })

  // API keys: API_KEYS and the keys made at run time (digests only, shared by every replica).
  const apiKeys = await createApiKeys({
    configured: config.apiKeys ?? [],
    store: stores.apiKeys,
    sha256Hex,
    clock,
    onTouchFailed: () => logger.warn('Could not record when an API key was last used'),
  })

  const app = createHttpApp({
    publicUrl: config.publicUrl,
    sandbox: sandbox !== undefined,
    mail,
    accounts,
    authorization,
    countByStatus: () => outbox.countByStatus(),
    admin: { webhooks: webhooks.admin, keys: apiKeys.admin },
    apiKeys: apiKeys.verifier,
    adminToken,
    adminSessions: await createAdminSessions(
      adminToken,
      stores.kind === 'postgres' ? { signOuts: stores.signOuts } : {},
    ),
    requestBudget:
      stores.kind === 'postgres'
        ? stores.requestBudget
        : memoryRequestBudget({ perMinute: config.apiRateLimitPerMinute, burst: config.apiRateBurst, clock }),
    authFailures: createAuthFailureGuard({ now: () => clock.now() }),
    clientAddress: createClientAddress(config.trustedProxies),
    corsOrigins: config.corsOrigins,
    readiness: createReadiness({
      stuckAccounts: () => engine.stuckAccounts(),
      storeProblem: () => stores.problem(),
      accounts,
      clock,
      storeProblemFirst: stores.kind === 'postgres',
    }),
    logger,
    clock,
    metrics: observed.http,
    uploads,
    ...(sandbox ? { mount: (root: Hono, guards) => sandbox.mount(root, guards) } : {}),
    ...(sandbox ? { sandboxMailbox: sandbox.control } : {}),
  })

  const sweep = setInterval(() => {
    outbox.sweep().catch(() => logger.error('Retention sweep failed'))
  }, hourMs)
  ;(sweep as { unref?: () => void }).unref?.()

  return {
    app,
    config,
    logger,
    ...(sandbox ? { sandbox } : {}),
    async shutdown(options = {}) {
      clearInterval(sweep)
      uploadJanitor.stop()
      await expiryWatch.stop()
      unsubscribeAccounts()
      await Promise.all([engine.stop(config.shutdownTimeoutMs), webhooks.stop(config.shutdownTimeoutMs)])
      // Requests still being answered may read the store; it closes after them.
      await options.drainRequests?.()
      await sandbox?.persist()
      await stores.close()
    },
  }
}
