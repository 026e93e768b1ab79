/**
 * The service's metrics, wired to its stores: prom-client's registry whose
 * gauges read the outbox, the accounts and (when there is one) the webhook
 * store at each scrape; the `Metrics` port that feeds the counters, for the
 * use cases; the Gmail port wrapped to be counted and timed; and what the
 * HTTP adapter serves at `GET /metrics`.
 */
import type { HttpDeps } from '../adapters/http/deps.ts'
import { createPrometheusMetrics } from '../adapters/metrics/prometheus.ts'
import type { Logger } from '../app/logger.ts'
import { measuredGmail } from '../app/measured-gmail.ts'
import type { Metrics } from '../app/metrics.ts'
import type { AccountState } from '../domain/credentials/account.ts'
import { isServiceError } from '../domain/errors.ts'
import type { GmailPort } from '../domain/ports.ts'
import type { WebhookStore } from '../domain/webhooks/ports.ts'
import type { Stores } from './stores.ts'

export interface ServiceMetrics {
  metrics: Metrics
  /** The port, counted and timed (`gmail_mail_gmail_requests_total`, `…_duration_seconds`). */
  gmail(port: GmailPort): GmailPort
  http: NonNullable<HttpDeps['metrics']>
}

export function serviceMetrics(options: {
  stores: Stores
  logger: Logger
  /** `METRICS_TOKEN`, accepted besides the admin token. */
  token: string | undefined
}): ServiceMetrics {
  const { stores, logger, token } = options
  // Optional until the webhook store is part of every `Stores`.
  const webhooks = (stores as { webhooks?: Pick<WebhookStore, 'pendingCount'> }).webhooks
  const prometheus = createPrometheusMetrics({
    sources: {
      outboxByStatus: () => stores.outbox.countByStatus(),
      oldestDueAgeMs: () => stores.outbox.oldestDueAge(),
      async accountsByStatus() {
        const counts: Partial<Record<AccountState, number>> = {}
        for (const account of await stores.accounts.list())
          counts[account.status] = (counts[account.status] ?? 0) + 1
        return counts
      },
      ...(webhooks === undefined ? {} : { pendingWebhooks: () => webhooks.pendingCount() }),
      ...(stores.kind === 'lowdb' ? { storeSyncs: () => stores.syncs() } : {}),
    },
    onCollectError: (metric, error) =>
      logger.warn('A metric could not be read; it is left out of this scrape', {
        metric,
        code: isServiceError(error) ? error.code : 'INTERNAL',
      }),
  })
  return {
    metrics: prometheus,
    // Monotonic: a duration must not jump with the wall clock.
    gmail: (port) => measuredGmail(port, prometheus, () => performance.now()),
    http: {
      scrape: async () => ({ contentType: prometheus.contentType, body: await prometheus.scrape() }),
      ...(token === undefined ? {} : { token }),
    },
  }
}
