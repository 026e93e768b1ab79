/**
 * `GET /metrics` through the real service (sandbox mode, lowdb, the
 * emulator's fault switches): sends that succeed, one Gmail refuses, one
 * that is retried, one that needs a token refresh after a 401 and one held
 * after a revoked grant show in the counters and gauges; the answer parses
 * as the Prometheus text format and carries no address, id or secret. Then
 * two replicas on PostgreSQL: each counts its own attempts, and both report
 * the same outbox and accounts, read from the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MailRecord } from '../../src/client.ts'
import { messageIdOf, numbered, waitFor, waitForFinal } from '../support/delivery-wait.ts'
import { describePostgres } from '../support/postgres.ts'
import { type Exposition, parseExposition } from '../support/prometheus-text.ts'
import { replicaFleet } from '../support/replica-fleet.ts'
import { type RunningService, startConnectedService, UNPACED_ENV } from '../support/service.ts'

const EMAIL = 'support@example.com'
const METRICS_TOKEN = 'e2e-metrics-token-0123456789'

describe('metrics of the real service', () => {
  let running: RunningService
  const records: MailRecord[] = []
  const scrapes: string[] = []

  const scrape = async (): Promise<Exposition> => {
    const response = await fetch(`${running.url}/metrics`, {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    scrapes.push(text)
    return parseExposition(text)
  }
  const messages = (m: Exposition, outcome: string) => m.value('gmail_mail_messages_total', { outcome })
  const requests = (m: Exposition, result: string) => m.value('gmail_mail_gmail_requests_total', { result })
  const outbox = (m: Exposition, status: string) => m.value('gmail_mail_outbox_messages', { status })
  const accounts = (m: Exposition, status: string) => m.value('gmail_mail_accounts', { status })

  beforeAll(async () => {
    running = await startConnectedService(
      { ...UNPACED_ENV, METRICS_TOKEN, SEND_WAIT_MS: '5000', RETRY_BASE_MS: '50', RETRY_MAX_MS: '200' },
      EMAIL,
    )
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('asks for a token: none or an API key is 401, METRICS_TOKEN and the admin token are 200', async () => {
    expect((await fetch(`${running.url}/metrics`)).status).toBe(401)
    const asKey = await fetch(`${running.url}/metrics`, {
      headers: { Authorization: `Bearer ${running.apiKey}` },
    })
    expect(asKey.status).toBe(401)
    const asAdmin = await fetch(`${running.url}/metrics`, {
      headers: { Authorization: `Bearer ${running.adminToken}` },
    })
    expect(asAdmin.status).toBe(200)
    const first = await scrape()
    for (const outcome of ['sent', 'retry', 'held', 'failed']) expect(messages(first, outcome)).toBe(0)
    expect(accounts(first, 'connected')).toBe(1)
    expect(first.value('gmail_mail_outbox_oldest_due_age_seconds')).toBe(0)
    expect(first.families.get('process_resident_memory_bytes')?.type).toBe('gauge')
  })

  it('counts a send, one Gmail refuses, and one that needed a token refresh after a 401', async () => {
    const control = running.service.sandbox!.control
    const { client } = running
    records.push(await client.mail.send.mutate(numbered(1)))
    control.injectFaults('send', [{ kind: 'status', status: 400, reason: 'invalidArgument' }])
    records.push(await client.mail.send.mutate(numbered(2)))
    control.expireAccessTokens()
    records.push(await client.mail.send.mutate(numbered(3)))
    expect(
      (
        await waitForFinal(
          client,
          records.map((record) => record.id),
        )
      ).map((r) => r.status),
    ).toEqual(['sent', 'failed', 'sent'])

    const m = await scrape()
    expect(messages(m, 'sent')).toBe(2)
    expect(messages(m, 'failed')).toBe(1)
    expect(messages(m, 'retry')).toBe(0)
    expect(requests(m, 'sent')).toBe(2)
    expect(requests(m, 'rejected')).toBe(1)
    expect(m.value('gmail_mail_gmail_request_duration_seconds_count')).toBe(3)
    expect(m.value('gmail_mail_gmail_request_duration_seconds_bucket', { le: '+Inf' })).toBe(3)
    expect(m.value('gmail_mail_gmail_request_duration_seconds_sum')).toBeGreaterThan(0)
    // The emulator refused the expired access token; the client refreshed it and sent again.
    expect(m.value('gmail_mail_token_refreshes_total', { outcome: 'ok' })).toBe(1)
    expect(outbox(m, 'sent')).toBe(2)
    expect(outbox(m, 'failed')).toBe(1)
    expect(m.value('gmail_mail_outbox_oldest_due_age_seconds')).toBe(0)
  })

  it('shows a message Gmail keeps refusing with 503 as retried and late, then sent', async () => {
    const control = running.service.sandbox!.control
    const { client } = running
    control.setFaultRate('send', { probability: 1, faults: [{ kind: 'status', status: 503 }] })
    const accepted = await client.mail.send.mutate(numbered(4))
    records.push(accepted)
    await waitFor(async () =>
      (await client.mail.get.query({ id: accepted.id })).attempts >= 2 ? true : undefined,
    )
    const late = await scrape()
    expect(messages(late, 'retry')).toBeGreaterThanOrEqual(1)
    expect(requests(late, 'unavailable')).toBeGreaterThanOrEqual(1)
    expect((outbox(late, 'queued') ?? 0) + (outbox(late, 'sending') ?? 0)).toBe(1)
    expect(late.value('gmail_mail_outbox_oldest_due_age_seconds')).toBeGreaterThan(0)

    control.setFaultRate('send', undefined)
    await waitForFinal(client, [accepted.id])
    const after = await scrape()
    expect(messages(after, 'sent')).toBe(3)
    expect(messages(after, 'retry')).toBe(requests(after, 'unavailable'))
    expect(after.value('gmail_mail_outbox_oldest_due_age_seconds')).toBe(0)
  })

  it('shows mail held after Google refused the grant, and the account needing reauthorization', async () => {
    const control = running.service.sandbox!.control
    const { client } = running
    control.revokeAccount(EMAIL)
    const held = await client.mail.send.mutate(numbered(5))
    records.push(held)
    await waitFor(async () =>
      (await client.mail.get.query({ id: held.id })).status === 'held' ? true : undefined,
    )
    const m = await waitFor(async () => {
      const current = await scrape()
      return accounts(current, 'reauthorization_required') === 1 ? current : undefined
    })
    expect(accounts(m, 'connected')).toBe(0)
    expect(messages(m, 'held')).toBe(1)
    expect(requests(m, 'reauthorization_required')).toBe(1)
    expect(outbox(m, 'held')).toBe(1)
    // Held mail waits for the admin, not for delivery: it does not make the outbox late.
    expect(m.value('gmail_mail_outbox_oldest_due_age_seconds')).toBe(0)
  })

  it("counts the lowdb outbox's flushes to disk: an accepted message is one more at least", async () => {
    const before = (await scrape()).value('gmail_mail_store_syncs_total') ?? Number.NaN
    // Held (the account awaits reauthorization): accepted, so on disk, all the same.
    expect((await running.client.mail.send.mutate(numbered(10))).status).toBe('held')
    const after = (await scrape()).value('gmail_mail_store_syncs_total')
    expect(before).toBeGreaterThan(0)
    expect(after).toBeGreaterThan(before)
  })

  it('never shows an address, a message id or a secret, in any scrape', async () => {
    expect(scrapes.length).toBeGreaterThan(4)
    const secrets = [METRICS_TOKEN, running.adminToken, running.apiKey]
    const ids = records.flatMap((record) => [
      record.id,
      messageIdOf(record.id),
      record.gmailMessageId ?? record.id,
    ])
    for (const text of scrapes) {
      expect(text).not.toContain('@')
      expect(text).not.toContain('example')
      for (const value of [...secrets, ...ids]) expect(text).not.toContain(value)
    }
  })
})

/** One scrape of `url` with METRICS_TOKEN, parsed. */
async function scrapeAt(url: string): Promise<{ text: string; metrics: Exposition }> {
  const response = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(response.status).toBe(200)
  const text = await response.text()
  return { text, metrics: parseExposition(text) }
}

describePostgres('metrics of two replicas on one PostgreSQL database', () => {
  const fleet = replicaFleet({ replicas: 2, env: { METRICS_TOKEN } })

  it('counts on each replica what it attempted, and reports the fleet-wide gauges alike on both', async () => {
    const email = 'team@example.com'
    expect((await fleet.connect({ login: 1, callback: 2, email })).status).toBe(302)
    const client = fleet.replica(1).client
    const sent = await fleet.replica(1).client.mail.send.mutate(numbered(1))
    await waitForFinal(client, [sent.id])
    await fleet.emulator.setFaultRate('send', 1, [{ kind: 'status', status: 400, reason: 'invalidArgument' }])
    const refused = await fleet.replica(2).client.mail.send.mutate(numbered(2))
    expect((await waitForFinal(client, [refused.id]))[0]?.status).toBe('failed')
    await fleet.emulator.setFaultRate('send', 0, [])

    const scrapes = await Promise.all([1, 2].map((n) => scrapeAt(fleet.replica(n).url)))
    const total = (name: string, labels: Record<string, string>) =>
      scrapes.reduce((sum, { metrics }) => sum + (metrics.value(name, labels) ?? 0), 0)
    // Whichever replica claimed each message, the fleet attempted each once.
    expect(total('gmail_mail_messages_total', { outcome: 'sent' })).toBe(1)
    expect(total('gmail_mail_messages_total', { outcome: 'failed' })).toBe(1)
    expect(total('gmail_mail_gmail_requests_total', { result: 'rejected' })).toBe(1)
    for (const { text, metrics } of scrapes) {
      // PostgreSQL counts its own WAL flushes (pg_stat_wal); the lowdb counter is not there.
      expect(text).not.toContain('gmail_mail_store_syncs_total')
      expect(metrics.value('gmail_mail_outbox_messages', { status: 'sent' })).toBe(1)
      expect(metrics.value('gmail_mail_outbox_messages', { status: 'failed' })).toBe(1)
      expect(metrics.value('gmail_mail_outbox_messages', { status: 'queued' })).toBe(0)
      expect(metrics.value('gmail_mail_outbox_oldest_due_age_seconds')).toBe(0)
      expect(metrics.value('gmail_mail_accounts', { status: 'connected' })).toBe(1)
      for (const secret of [sent.id, refused.id, METRICS_TOKEN, fleet.adminToken])
        expect(text).not.toContain(secret)
      expect(text).not.toContain('@')
    }
  })
})
