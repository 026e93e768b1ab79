/**
 * Signed webhooks through the real server (lowdb, sandbox mode) to a real
 * receiver on 127.0.0.1: one event retried after a 500 and a timeout under
 * one `webhook-id`, each attempt verified with the `standardwebhooks`
 * package; a 410 disables the endpoint; the secret is shown once; an API
 * key is refused for `admin.webhooks.*`.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { TRPCClientError } from '@trpc/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient, type MailClient } from '../../src/client.ts'
import { readUnlessRenamed } from '../adapters/lowdb/fixtures.ts'
import { waitFor } from '../support/delivery-wait.ts'
import { type RunningService, startConnectedService, UNPACED_ENV } from '../support/service.ts'
import { startWebhookReceiver, verifiedEvent, type WebhookReceiver } from '../support/webhook-receiver.ts'

const TIMEOUT_MS = 400

async function codeOf(call: Promise<unknown>): Promise<string> {
  const caught = await call.then(
    () => undefined,
    (error: unknown) => error,
  )
  if (!(caught instanceof TRPCClientError)) return 'no tRPC error'
  return String((caught.data as { code?: string } | undefined)?.code)
}

/** Every file under `dir`, recursively, as text (see `readUnlessRenamed`). */
async function filesUnder(dir: string): Promise<Array<{ path: string; text: string }>> {
  const out: Array<{ path: string; text: string }> = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const text = await readUnlessRenamed(path, 'latin1')
    if (text !== undefined) out.push({ path, text })
  }
  return out
}

describe('webhooks through the real server', () => {
  let running: RunningService
  let admin: MailClient
  let receiver: WebhookReceiver

  beforeAll(async () => {
    running = await startConnectedService({
      ...UNPACED_ENV,
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_RETRY_BASE_MS: '50',
    })
    admin = createMailClient({ url: `${running.url}/trpc`, apiKey: running.adminToken, retries: 0 })
    receiver = await startWebhookReceiver()
  })
  afterAll(async () => {
    await receiver?.close()
    await running?.stop()
  })

  it('delivers mail.sent after a 500 and a timeout, three times under one webhook-id, each signature verified', async () => {
    receiver.script([500, 'hang'], 204)
    const endpoint = await admin.admin.webhooks.create.mutate({ url: receiver.url, events: ['mail.sent'] })
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
    expect(endpoint).toMatchObject({ url: receiver.url, events: ['mail.sent'] })

    const record = await running.client.mail.send.mutate({
      to: 'ann@example.net',
      subject: 'Webhook me',
      text: 'Hello',
    })
    await waitFor(() => (receiver.received.length >= 3 ? true : undefined), { what: 'three attempts' })
    const attempts = receiver.received.slice(0, 3)
    expect(new Set(attempts.map((request) => request.id)).size).toBe(1)
    expect(attempts[0]!.id).toMatch(/^evt_/)
    for (const request of attempts) {
      expect(request.contentType).toBe('application/json')
      const event = verifiedEvent(endpoint.secret, request)
      expect(event.type).toBe('mail.sent')
      expect(new Date(event.timestamp).toISOString()).toBe(event.timestamp)
      expect(event.data).toMatchObject({
        id: record.id,
        status: 'sent',
        subject: 'Webhook me',
        to: ['ann@example.net'],
      })
    }
    // The same bytes each time: one event, signed afresh per attempt.
    expect(new Set(attempts.map((request) => request.body)).size).toBe(1)

    const deliveries = await waitFor(async () => {
      const list = await admin.admin.webhooks.deliveries.query({ id: endpoint.id })
      return list.length >= 3 ? list : undefined
    })
    expect(deliveries.map((attempt) => attempt.status ?? attempt.error)).toEqual([204, 'timeout', 500])
    expect(deliveries.map((attempt) => attempt.ok)).toEqual([true, false, false])
    for (const attempt of deliveries)
      expect(attempt).toMatchObject({ eventId: attempts[0]!.id, eventType: 'mail.sent' })

    const [listed] = await admin.admin.webhooks.list.query()
    expect(listed).toMatchObject({ id: endpoint.id, lastDelivery: { status: 204, ok: true } })
    // Shown once: never in a list, the deliveries, a log line or a file under DATA_DIR.
    expect(JSON.stringify(await admin.admin.webhooks.list.query())).not.toContain(endpoint.secret)
    expect(JSON.stringify(deliveries)).not.toContain(endpoint.secret)
    const secretBody = endpoint.secret.slice('whsec_'.length)
    expect(running.logs.filter((line) => line.includes(secretBody))).toEqual([])
    for (const file of await filesUnder(running.dataDir))
      expect(file.text, file.path).not.toContain(secretBody)

    await admin.admin.webhooks.delete.mutate({ id: endpoint.id })
    expect(await admin.admin.webhooks.list.query()).toEqual([])
  })

  it('replays a delivered event under the same webhook-id', async () => {
    receiver.script([], 204)
    const endpoint = await admin.admin.webhooks.create.mutate({ url: receiver.url, events: ['mail.sent'] })
    const before = receiver.received.length
    await running.client.mail.send.mutate({ to: 'bob@example.net', subject: 'Replay me', text: 'Hi' })
    await waitFor(() => (receiver.received.length > before ? true : undefined), { what: 'the event' })
    const first = receiver.received[before]!
    await admin.admin.webhooks.replay.mutate({ id: endpoint.id, eventId: first.id })
    await waitFor(() => (receiver.received.length > before + 1 ? true : undefined), { what: 'the replay' })
    const again = receiver.received[before + 1]!
    expect(again.id).toBe(first.id)
    expect(verifiedEvent(endpoint.secret, again)).toEqual(verifiedEvent(endpoint.secret, first))
    expect(
      await codeOf(admin.admin.webhooks.replay.mutate({ id: endpoint.id, eventId: 'evt_unknown' })),
    ).toBe('NOT_FOUND')
    await admin.admin.webhooks.delete.mutate({ id: endpoint.id })
  })

  it('disables an endpoint that answers 410 and sends it nothing more', async () => {
    receiver.script([], 410)
    const endpoint = await admin.admin.webhooks.create.mutate({ url: receiver.url })
    const before = receiver.received.length
    await running.client.mail.send.mutate({ to: 'cy@example.net', subject: 'Gone', text: 'Hi' })
    const disabled = await waitFor(async () => {
      const [listed] = await admin.admin.webhooks.list.query()
      return listed?.disabledAt !== undefined ? listed : undefined
    })
    expect(disabled).toMatchObject({ id: endpoint.id, lastDelivery: { status: 410, ok: false } })
    expect(disabled.disabledReason).toMatch(/410/)
    expect(receiver.received).toHaveLength(before + 1)
    // A probe endpoint, subscribed like the disabled one: once it has the next event, the disabled one had its chance.
    receiver.script([], 204)
    const probe = await admin.admin.webhooks.create.mutate({ url: `${receiver.url}?probe=1` })
    await running.client.mail.send.mutate({ to: 'dee@example.net', subject: 'Gone 2', text: 'Hi' })
    await waitFor(async () => {
      const list = await admin.admin.webhooks.deliveries.query({ id: probe.id })
      return list.some((attempt) => attempt.ok) ? true : undefined
    })
    expect(receiver.received.map((request) => request.path).slice(before)).toEqual([
      '/hooks',
      '/hooks?probe=1',
    ])
    expect(await admin.admin.webhooks.deliveries.query({ id: endpoint.id })).toHaveLength(1)
    for (const id of [endpoint.id, probe.id]) await admin.admin.webhooks.delete.mutate({ id })
  })

  it('refuses an API key for admin.webhooks, and bad or unknown input', async () => {
    const asKey = running.client
    expect(await codeOf(asKey.admin.webhooks.list.query())).toBe('UNAUTHORIZED')
    expect(await codeOf(asKey.admin.webhooks.create.mutate({ url: receiver.url }))).toBe('UNAUTHORIZED')
    expect(await codeOf(admin.admin.webhooks.create.mutate({ url: 'ftp://example.net/' }))).toBe(
      'BAD_REQUEST',
    )
    expect(await codeOf(admin.admin.webhooks.create.mutate({ url: 'https://u:p@example.net/' }))).toBe(
      'BAD_REQUEST',
    )
    expect(
      await codeOf(
        admin.admin.webhooks.create.mutate({ url: receiver.url, events: ['mail.opened' as never] }),
      ),
    ).toBe('BAD_REQUEST')
    expect(
      await codeOf(admin.admin.webhooks.create.mutate({ url: receiver.url, secret: 'mine' } as never)),
    ).toBe('BAD_REQUEST')
    expect(await codeOf(admin.admin.webhooks.delete.mutate({ id: 'wh_nope' }))).toBe('NOT_FOUND')
    expect(await codeOf(admin.admin.webhooks.deliveries.query({ id: 'wh_nope' }))).toBe('NOT_FOUND')
    expect(await admin.admin.webhooks.list.query()).toEqual([])
  })
})
