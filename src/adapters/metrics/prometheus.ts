/**
 * The metrics port on prom-client, in the Prometheus text exposition format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Counters
 * hear the use cases; gauges are read from the stores at each scrape, so
 * that every replica on one database reports the same outbox. Names follow
 * https://prometheus.io/docs/practices/naming/: one `gmail_mail_` prefix,
 * base units (seconds), `_total` on counters. Every label value comes from
 * a closed list, so that no address, id or key can become one; each is
 * present from the start (at 0), so that `rate()` and alerts see it.
 *
 * prom-client runs on Node and Deno alike. On Deno its garbage collection
 * histogram stays empty and the libuv handle counts are 0 (Deno reports
 * neither), and what it reads from /proc/self is replaced or left out (see
 * `PROC_METRICS`); the rest of the default metrics are real.
 */
import { readFileSync } from 'node:fs'
import process from 'node:process'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import {
  GMAIL_RESULTS,
  MESSAGE_OUTCOMES,
  type Metrics,
  TOKEN_REFRESH_OUTCOMES,
  WEBHOOK_DELIVERY_OUTCOMES,
} from '../../app/metrics.ts'
import type { AccountState } from '../../domain/credentials/account.ts'
import { MAIL_STATUSES, type MailStatus } from '../../domain/mail/record.ts'

export const METRICS_PREFIX = 'gmail_mail_'

const ACCOUNT_STATES: readonly AccountState[] = ['connected', 'reauthorization_required', 'revoked']

/** Gmail calls take from tens of milliseconds to the transport's 60 s timeout. */
const GMAIL_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** What the gauges read at each scrape. */
export interface GaugeSources {
  outboxByStatus(): Promise<Record<MailStatus, number>>
  /** Milliseconds (`OutboxRepository.oldestDueAge`). */
  oldestDueAgeMs(): Promise<number>
  accountsByStatus(): Promise<Partial<Record<AccountState, number>>>
  /** Absent: the gauge is not exposed (no webhook store wired). */
  pendingWebhooks?: () => Promise<number>
  /** The store's fsyncs so far (lowdb); absent on PostgreSQL, whose own statistics count its WAL flushes. */
  storeSyncs?: () => number
}

export interface PrometheusMetrics extends Metrics {
  /** The `Content-Type` of `scrape()`'s text. */
  readonly contentType: string
  /** Every metric, this service's and the runtime's, as exposition text. */
  scrape(): Promise<string>
}

/**
 * What prom-client reads from /proc/self on Linux. Deno opens /proc/self
 * only under --allow-all, which `deno task start` does not grant; there
 * these would say 0, so they are left out, and the resident memory is read
 * from `process.memoryUsage()` instead.
 */
const PROC_METRICS = [
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
]

function procReadable(): boolean {
  if (process.platform !== 'linux') return true
  try {
    readFileSync('/proc/self/status')
    return true
  } catch {
    return false
  }
}

/** The runtime's metrics (CPU, memory, event loop lag, ...), one set per process however many services it runs. */
let runtimeRegistry: Registry | undefined
function runtimeMetrics(): Registry {
  if (runtimeRegistry !== undefined) return runtimeRegistry
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  if (!procReadable()) {
    for (const metric of PROC_METRICS) registry.removeSingleMetric(metric)
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      registers: [registry],
      collect() {
        this.set(process.memoryUsage().rss)
      },
    })
  }
  runtimeRegistry = registry
  return registry
}

export function createPrometheusMetrics(options: {
  sources: GaugeSources
  /** A gauge's source failed (the store is away): the gauge says NaN in this scrape. */
  onCollectError: (metric: string, error: unknown) => void
}): PrometheusMetrics {
  const { sources } = options
  const registry = new Registry()
  const registers = [registry]
  const name = (suffix: string) => `${METRICS_PREFIX}${suffix}`

  const counter = <L extends string>(suffix: string, help: string, label: L, values: readonly string[]) => {
    const made = new Counter({ name: name(suffix), help, labelNames: [label], registers })
    for (const value of values) made.inc({ [label]: value } as Record<L, string>, 0)
    return made
  }
  const messages = counter(
    'messages_total',
    'Delivery attempts by what they did to their message, once recorded: sent, retry (tried again later), held (waits for reauthorization), failed (given up).',
    'outcome',
    MESSAGE_OUTCOMES,
  )
  const gmailRequests = counter(
    'gmail_requests_total',
    "Calls of Gmail's users.messages.send (with the token refresh before it) by result.",
    'result',
    GMAIL_RESULTS,
  )
  const gmailDuration = new Histogram({
    name: name('gmail_request_duration_seconds'),
    help: "Duration of calls of Gmail's users.messages.send, token refresh included, whatever their result.",
    buckets: GMAIL_DURATION_BUCKETS,
    registers,
  })
  const tokenRefreshes = counter(
    'token_refreshes_total',
    "Refreshes of accounts' access tokens at Google's token endpoint by outcome.",
    'outcome',
    TOKEN_REFRESH_OUTCOMES,
  )
  const webhookDeliveries = counter(
    'webhook_deliveries_total',
    'Webhook delivery attempts by outcome: delivered (2xx), retry, gave_up (the last retry failed), disabled (410).',
    'outcome',
    WEBHOOK_DELIVERY_OUTCOMES,
  )

  /** Reads a gauge's source; undefined (reported) when it failed: the gauge says NaN, never a made-up 0. */
  const attempt = async <T>(metric: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read()
    } catch (error) {
      options.onCollectError(metric, error)
      return undefined
    }
  }
  /** A gauge per label value, read at each scrape. */
  const labeledGauge = (
    suffix: string,
    help: string,
    label: string,
    values: readonly string[],
    read: () => Promise<Partial<Record<string, number>>>,
  ) =>
    new Gauge({
      name: name(suffix),
      help,
      labelNames: [label],
      registers,
      async collect() {
        const counts = await attempt(name(suffix), read)
        for (const value of values)
          this.set({ [label]: value }, counts === undefined ? Number.NaN : (counts[value] ?? 0))
      },
    })
  /** One number, read at each scrape. */
  const gauge = (suffix: string, help: string, read: () => Promise<number>) =>
    new Gauge({
      name: name(suffix),
      help,
      registers,
      async collect() {
        this.set((await attempt(name(suffix), read)) ?? Number.NaN)
      },
    })
  labeledGauge(
    'outbox_messages',
    'Messages in the outbox by status; finished ones (sent, failed, canceled) as far back as the retention keeps them.',
    'status',
    MAIL_STATUSES,
    () => sources.outboxByStatus(),
  )
  gauge(
    'outbox_oldest_due_age_seconds',
    'Age of the oldest message still on its way out (queued, sending, or scheduled and due), from its send time or acceptance; 0 when none. Held mail does not count.',
    async () => (await sources.oldestDueAgeMs()) / 1000,
  )
  labeledGauge('accounts', 'Sending accounts by status.', 'status', ACCOUNT_STATES, () =>
    sources.accountsByStatus(),
  )
  const pendingWebhooks = sources.pendingWebhooks
  if (pendingWebhooks !== undefined) {
    gauge('webhook_deliveries_pending', 'Webhook deliveries not yet delivered nor given up.', pendingWebhooks)
  }

  const storeSyncs = sources.storeSyncs
  if (storeSyncs !== undefined) {
    new Counter({
      name: name('store_syncs_total'),
      help: 'fsyncs (and O_DSYNC writes) of the lowdb outbox: concurrent changes share one (group commit).',
      registers,
      collect() {
        this.reset()
        this.inc(storeSyncs())
      },
    })
  }

  const runtime = runtimeMetrics()
  return {
    contentType: registry.contentType,
    async scrape() {
      const [own, process] = await Promise.all([registry.metrics(), runtime.metrics()])
      return `${own}\n${process}`
    },
    messageOutcome: (outcome) => messages.inc({ outcome }),
    gmailRequest(result, seconds) {
      gmailRequests.inc({ result })
      gmailDuration.observe(seconds)
    },
    tokenRefresh: (outcome) => tokenRefreshes.inc({ outcome }),
    webhookDelivery: (outcome) => webhookDeliveries.inc({ outcome }),
  }
}
