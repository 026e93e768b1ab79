/**
 * `GET /metrics` on the real Hono app with the real prom-client registry
 * over the in-memory stores: who may scrape (the admin token, or
 * METRICS_TOKEN; never an API key, never without a token), what the answer
 * is (the Prometheus text format, parsed strictly), what it counts, and
 * that a failing store shows as NaN rather than as a made-up 0.
 */
import { describe, expect, it } from 'vitest'
import { createAdminSessions } from '../../../src/adapters/http/admin-session.ts'
import { createHttpApp } from '../../../src/adapters/http/app.ts'
import { createClientAddress } from '../../../src/adapters/http/client-address.ts'
import type { HttpDeps } from '../../../src/adapters/http/deps.ts'
import { createApiKeyCheck } from '../../../src/adapters/http/secrets.ts'
import { createJsonLogger } from '../../../src/adapters/log/json-logger.ts'
import { createPrometheusMetrics, type GaugeSources } from '../../../src/adapters/metrics/prometheus.ts'
import { createAuthFailureGuard } from '../../../src/app/auth-failures.ts'
import { memoryRequestBudget } from '../../../src/app/memory-request-budget.ts'
import { ServiceError } from '../../../src/domain/errors.ts'
import { message } from '../../contracts/outbox-messages.ts'
import { memoryOutbox } from '../../fakes/repositories.ts'
import { parseExposition } from '../../support/prometheus-text.ts'

const ADMIN = 'metrics-admin-token-0123456789'
const METRICS = 'metrics-scrape-token-0123456789'
const API_KEY = 'metrics-api-key-0123456789abcdef'

async function appWith(options: { metricsToken?: string; sources?: Partial<GaugeSources> } = {}) {
  const lines: string[] = []
  const logger = createJsonLogger({ level: 'debug', write: (line) => lines.push(line) })
  const now = Date.now()
  const outbox = memoryOutbox({ now: () => now })
  await outbox.accept([
    await message('waiting', { at: now - 90_000 }),
    await message('held', { at: now - 600_000, connected: false }),
  ])
  const metrics = createPrometheusMetrics({
    sources: {
      outboxByStatus: () => outbox.countByStatus(),
      oldestDueAgeMs: () => outbox.oldestDueAge(),
      accountsByStatus: async () => ({ connected: 2, reauthorization_required: 1 }),
      pendingWebhooks: async () => 3,
      ...options.sources,
    },
    onCollectError: (metric, error) => logger.warn('A metric could not be read', { metric, error }),
  })
  const unused = {} as never
  const deps: HttpDeps = {
    publicUrl: 'http://127.0.0.1:1',
    sandbox: false,
    mail: unused,
    accounts: unused,
    authorization: unused,
    countByStatus: () => outbox.countByStatus(),
    apiKeys: await createApiKeyCheck([API_KEY]),
    adminToken: ADMIN,
    adminSessions: await createAdminSessions(ADMIN),
    requestBudget: memoryRequestBudget({ perMinute: 0, clock: { now: () => now } }),
    authFailures: createAuthFailureGuard({ now: () => Date.now(), burst: 5 }),
    clientAddress: createClientAddress([]),
    corsOrigins: [],
    readiness: async () => ({ ready: true }),
    logger,
    clock: { now: () => now },
    metrics: {
      scrape: async () => ({ contentType: metrics.contentType, body: await metrics.scrape() }),
      ...(options.metricsToken === undefined ? {} : { token: options.metricsToken }),
    },
  }
  const app = createHttpApp(deps)
  const scrape = (token?: string) =>
    app.request('/metrics', token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } })
  return { app, scrape, metrics, lines }
}

describe('GET /metrics', () => {
  it('refuses a scrape without a token, with a wrong one and with an API key: 401, nothing counted shown', async () => {
    const { scrape, lines } = await appWith({ metricsToken: METRICS })
    for (const token of [undefined, 'not-the-token-0123456789', API_KEY, `${ADMIN}x`]) {
      const response = await scrape(token)
      expect(response.status).toBe(401)
      expect(response.headers.get('WWW-Authenticate')).toBe('Bearer realm="metrics"')
      const text = await response.text()
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'UNAUTHORIZED' } })
      expect(text).not.toContain('gmail_mail_')
    }
    expect(lines.some((line) => line.includes('Metrics token refused'))).toBe(true)
    expect(lines.join('\n')).not.toContain('not-the-token')
  })

  it('answers the admin token, and METRICS_TOKEN when set, with the Prometheus text format', async () => {
    const { scrape } = await appWith({ metricsToken: METRICS })
    for (const token of [ADMIN, METRICS]) {
      const response = await scrape(token)
      expect(response.status).toBe(200)
      expect(response.headers.get('Content-Type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      expect(response.headers.get('Cache-Control')).toBe('no-store')
      const exposition = parseExposition(await response.text())
      expect(exposition.families.get('gmail_mail_messages_total')?.type).toBe('counter')
      expect(exposition.families.get('gmail_mail_gmail_request_duration_seconds')?.type).toBe('histogram')
      expect(exposition.families.get('process_cpu_seconds_total')?.type).toBe('counter')
      expect(exposition.families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge')
    }
  })

  it('accepts only the admin token when METRICS_TOKEN is not set', async () => {
    const { scrape } = await appWith()
    expect((await scrape(METRICS)).status).toBe(401)
    expect((await scrape(ADMIN)).status).toBe(200)
  })

  it('counts what the use cases report and reads the gauges from the stores at the scrape', async () => {
    const { scrape, metrics } = await appWith()
    metrics.messageOutcome('sent')
    metrics.messageOutcome('sent')
    metrics.messageOutcome('retry')
    metrics.gmailRequest('sent', 0.2)
    metrics.gmailRequest('unavailable', 3)
    metrics.tokenRefresh('reauthorization_required')
    metrics.webhookDelivery('delivered')
    const exposition = parseExposition(await (await scrape(ADMIN)).text())
    const value = exposition.value
    expect(value('gmail_mail_messages_total', { outcome: 'sent' })).toBe(2)
    expect(value('gmail_mail_messages_total', { outcome: 'retry' })).toBe(1)
    // Every outcome is there from the start, so that rate() and alerts see it.
    expect(value('gmail_mail_messages_total', { outcome: 'failed' })).toBe(0)
    expect(value('gmail_mail_gmail_requests_total', { result: 'unavailable' })).toBe(1)
    expect(value('gmail_mail_gmail_requests_total', { result: 'rate_limited' })).toBe(0)
    expect(value('gmail_mail_gmail_request_duration_seconds_count')).toBe(2)
    expect(value('gmail_mail_gmail_request_duration_seconds_sum')).toBeCloseTo(3.2)
    expect(value('gmail_mail_gmail_request_duration_seconds_bucket', { le: '0.25' })).toBe(1)
    expect(value('gmail_mail_gmail_request_duration_seconds_bucket', { le: '+Inf' })).toBe(2)
    expect(value('gmail_mail_token_refreshes_total', { outcome: 'reauthorization_required' })).toBe(1)
    expect(value('gmail_mail_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1)
    expect(value('gmail_mail_outbox_messages', { status: 'queued' })).toBe(1)
    expect(value('gmail_mail_outbox_messages', { status: 'held' })).toBe(1)
    expect(value('gmail_mail_outbox_messages', { status: 'sent' })).toBe(0)
    // The held message is older, but it waits for the admin: the queued one is the oldest due.
    expect(value('gmail_mail_outbox_oldest_due_age_seconds')).toBe(90)
    expect(value('gmail_mail_accounts', { status: 'connected' })).toBe(2)
    expect(value('gmail_mail_accounts', { status: 'revoked' })).toBe(0)
    expect(value('gmail_mail_webhook_deliveries_pending')).toBe(3)
    for (const sample of exposition.samples) {
      for (const label of Object.values(sample.labels)) expect(label).not.toMatch(/@|waiting|held-/)
    }
  })

  it('shows a gauge whose store fails as NaN, logs the failure, and still answers the rest', async () => {
    const away = async (): Promise<never> => {
      throw new ServiceError('SERVICE_UNAVAILABLE', 'The database cannot be reached')
    }
    const { scrape, lines } = await appWith({ sources: { outboxByStatus: away, oldestDueAgeMs: away } })
    const response = await scrape(ADMIN)
    expect(response.status).toBe(200)
    const exposition = parseExposition(await response.text())
    expect(exposition.value('gmail_mail_outbox_messages', { status: 'queued' })).toBeNaN()
    expect(exposition.value('gmail_mail_outbox_oldest_due_age_seconds')).toBeNaN()
    expect(exposition.value('gmail_mail_accounts', { status: 'connected' })).toBe(2)
    expect(lines.filter((line) => line.includes('A metric could not be read'))).toHaveLength(2)
  })

  it('throttles an address that keeps presenting wrong tokens, before checking the next', async () => {
    const { scrape } = await appWith()
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) statuses.push((await scrape(`wrong-token-${i}-0123456789`)).status)
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401])
    expect(statuses.slice(5)).toEqual([429, 429])
    const throttled = await scrape(ADMIN)
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers.get('Retry-After'))).toBeGreaterThan(0)
  })
})
