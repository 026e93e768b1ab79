/**
 * Webhooks on two replicas sharing one PostgreSQL database: the events the
 * triggers write are claimed like messages, so that while both replicas run
 * each event reaches the receiver once; and a replica killed with SIGKILL
 * while events wait (the receiver down) loses none of them: when the
 * receiver comes back, every event arrives, verified with `standardwebhooks`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createMailClient, type MailClient } from '../../src/client.ts'
import { waitFor } from '../support/delivery-wait.ts'
import { acceptRoundRobin, waitForStatuses } from '../support/fleet-traffic.ts'
import { describePostgres } from '../support/postgres.ts'
import { replicaFleet } from '../support/replica-fleet.ts'
import { startWebhookReceiver, verifiedEvent, type WebhookReceiver } from '../support/webhook-receiver.ts'

const EMAIL = 'hooks@example.com'

describePostgres('webhooks on two replicas', () => {
  const fleet = replicaFleet({
    replicas: 2,
    env: { WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_RETRY_BASE_MS: '50' },
  })
  let receiver: WebhookReceiver
  let admin: MailClient
  let secret: string

  /** The message ids of the verified mail.sent events received, with how many requests carried each event. */
  const sentEvents = () => {
    const byEvent = new Map<string, { messageId: string; copies: number }>()
    for (const request of receiver.received) {
      const event = verifiedEvent(secret, request)
      if (event.type !== 'mail.sent') continue
      const known = byEvent.get(request.id)
      if (known) known.copies += 1
      else byEvent.set(request.id, { messageId: String(event.data.id), copies: 1 })
    }
    return byEvent
  }
  const messagesWithEvents = () => new Set([...sentEvents().values()].map((event) => event.messageId))

  beforeAll(async () => {
    receiver = await startWebhookReceiver()
  })
  afterAll(async () => {
    await receiver?.close()
  })

  it('takes an endpoint on replica 1 that replica 2 lists', async () => {
    expect((await fleet.connect({ login: 1, callback: 1, email: EMAIL })).status).toBe(302)
    admin = createMailClient({ url: `${fleet.replica(1).url}/trpc`, apiKey: fleet.adminToken, retries: 0 })
    const made = await admin.admin.webhooks.create.mutate({ url: receiver.url, events: ['mail.sent'] })
    secret = made.secret
    const other = createMailClient({
      url: `${fleet.replica(2).url}/trpc`,
      apiKey: fleet.adminToken,
      retries: 0,
    })
    expect((await other.admin.webhooks.list.query()).map((endpoint) => endpoint.id)).toEqual([made.id])
  })

  it('delivers each event once while both replicas run', async () => {
    const accepted = await acceptRoundRobin(() => fleet.replicas, {
      first: 0,
      count: 30,
      parallel: 6,
      keyPrefix: 'hooks-once',
    })
    const ids = accepted.map((record) => record.id)
    await waitForStatuses(fleet.replica(1).client, ids, ['sent'], 30_000)
    await waitFor(() => (ids.every((id) => messagesWithEvents().has(id)) ? true : undefined), {
      timeoutMs: 30_000,
      what: 'an event for each of 30 messages',
    })
    // A few more polls of both dispatchers: anything claimed twice would arrive now.
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    const events = [...sentEvents().values()].filter((event) => ids.includes(event.messageId))
    expect(events).toHaveLength(30)
    expect(events.filter((event) => event.copies !== 1)).toEqual([])
  })

  it('loses no event when a replica is killed with events pending, once the receiver is back', async () => {
    await receiver.down()
    const accepted = await acceptRoundRobin(() => fleet.replicas, {
      first: 100,
      count: 20,
      parallel: 4,
      keyPrefix: 'hooks-kill',
    })
    const ids = accepted.map((record) => record.id)
    await waitForStatuses(fleet.replica(1).client, ids, ['sent'], 30_000)
    const [endpoint] = await admin.admin.webhooks.list.query()
    // The events exist and are being tried: the receiver refuses connections.
    await waitFor(
      async () => {
        const recent = await admin.admin.webhooks.deliveries.query({ id: endpoint!.id, limit: 100 })
        return recent.filter((attempt) => attempt.error === 'connection refused').length >= 10
          ? true
          : undefined
      },
      { timeoutMs: 30_000, what: 'refused attempts' },
    )
    expect((await fleet.kill(2)).signal).toBe('SIGKILL')
    await receiver.up()
    await waitFor(() => (ids.every((id) => messagesWithEvents().has(id)) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'an event for each of 20 messages after the kill',
    })
    const events = [...sentEvents().values()].filter((event) => ids.includes(event.messageId))
    expect(new Set(events.map((event) => event.messageId)).size).toBe(20)
    // Each message reported by one event (one webhook-id), however often it was tried.
    expect(events).toHaveLength(20)
  })
})
