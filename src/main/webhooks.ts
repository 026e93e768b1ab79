/**
 * The webhook side of the service: the dispatcher (claims deliveries like
 * messages, one process at a time per delivery, sends at least once) and
 * the admin's use cases, over the store `openStores` picked.
 */
import { createHttpWebhookSender } from '../adapters/webhooks/http-sender.ts'
import { generateWebhookSecret } from '../adapters/webhooks/signature.ts'
import type { Config } from '../app/config.ts'
import type { Logger } from '../app/logger.ts'
import type { Metrics } from '../app/metrics.ts'
import type { Scheduler } from '../app/scheduler.ts'
import type { WebhookAdmin } from '../app/webhooks/admin.ts'
import { createWebhookDispatcher } from '../app/webhooks/dispatcher.ts'
import { createWebhookAdmin } from '../app/webhooks/webhook-admin.ts'
import type { Clock } from '../domain/ports.ts'
import { WEBHOOK_RETRY_DEFAULTS } from '../domain/webhooks/retry.ts'
import type { Stores } from './stores.ts'

export interface ComposedWebhooks {
  admin: WebhookAdmin
  /** Stops claiming; waits up to `timeoutMs` for the attempts in flight. */
  stop(timeoutMs: number): Promise<void>
}

export function composeWebhooks(deps: {
  stores: Stores
  config: Config
  clock: Clock
  scheduler: Scheduler
  logger: Logger
  metrics: Metrics
}): ComposedWebhooks {
  const { stores, config, clock } = deps
  const dispatcher = createWebhookDispatcher({
    store: stores.webhooks,
    sender: createHttpWebhookSender({ timeoutMs: config.webhookTimeoutMs }),
    clock,
    scheduler: deps.scheduler,
    random: Math.random,
    logger: deps.logger,
    owner: stores.kind === 'postgres' ? stores.owner : 'local',
    policy: { ...WEBHOOK_RETRY_DEFAULTS, baseMs: config.webhookRetryBaseMs },
    timeoutMs: config.webhookTimeoutMs,
    metrics: deps.metrics,
  })
  const unsubscribe = stores.onEventsPublished(() => dispatcher.nudge())
  dispatcher.start()
  const admin = createWebhookAdmin({
    store: stores.webhooks,
    clock,
    newSecret: generateWebhookSecret,
    newId: (prefix) => `${prefix}_${crypto.randomUUID().replace(/-/g, '')}`,
    onReplay: () => dispatcher.nudge(),
  })
  return {
    admin,
    async stop(timeoutMs) {
      unsubscribe()
      await dispatcher.stop(timeoutMs)
    },
  }
}
