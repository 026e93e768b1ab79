/**
 * Webhooks in lowdb mode across a SIGKILL: the service process is killed
 * while it sends mail, notes and concludes its changes and settles its
 * deliveries (the webhook log mid-append, publications still under way),
 * then restarted on the same DATA_DIR. Every message sent, before or after
 * the kill, reaches the receiver as one `mail.sent` event under one
 * `webhook-id`, verified with `standardwebhooks`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient } from '../../src/client.ts'
import { restartableService } from '../support/child-fleet.ts'
import { connectAccount } from '../support/connect.ts'
import { numbered, waitFor, waitForFinal } from '../support/delivery-wait.ts'
import { startWebhookReceiver, verifiedEvent, type WebhookReceiver } from '../support/webhook-receiver.ts'

const EMAIL = 'hooks@example.com'

describe('webhooks of a lowdb service killed with SIGKILL while it sends', () => {
  const fleet = restartableService('gmail-send-webhook-kill-', {
    WEBHOOK_TIMEOUT_MS: '500',
    WEBHOOK_RETRY_BASE_MS: '50',
  })
  let receiver: WebhookReceiver
  beforeAll(async () => {
    receiver = await startWebhookReceiver()
  })
  afterAll(async () => {
    await receiver?.close()
  })

  it('loses no mail.sent event, and sends each under one webhook-id', async () => {
    const first = await fleet.start()
    const connected = await connectAccount({
      url: first.url,
      adminToken: first.adminToken,
      control: fleet.control,
      email: EMAIL,
    })
    expect(connected.callbackStatus).toBe(302)
    const admin = createMailClient({ url: `${first.url}/trpc`, apiKey: first.adminToken, retries: 0 })
    const { secret } = await admin.admin.webhooks.create.mutate({ url: receiver.url, events: ['mail.sent'] })
    // Some sends are slow and some deliveries fail once: the kill finds every step under way.
    fleet.control.setFaultRate('send', { probability: 0.2, faults: [{ kind: 'delay', ms: 80 }] })
    receiver.script(Array.from({ length: 40 }, (_, index) => (index % 3 === 0 ? 500 : 204)))

    const accepted: string[] = []
    const killAfter = 30 + Math.floor(Math.random() * 60)
    for (let chunk = 0; chunk < 8 && receiver.received.length < killAfter; chunk++) {
      const records = await first.client.mail.sendBatch.mutate({
        messages: Array.from({ length: 20 }, (_, index) => numbered(chunk * 20 + index, { from: EMAIL })),
      })
      accepted.push(...records.map((record) => record.id))
      await waitFor(
        () => (receiver.received.length >= Math.min(killAfter, accepted.length / 2) ? true : undefined),
        {
          timeoutMs: 20_000,
          intervalMs: 5,
          what: 'webhook deliveries under way',
        },
      )
    }
    first.process.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')
    expect(accepted.length).toBeGreaterThanOrEqual(20)
    fleet.control.setFaultRate('send', undefined)

    const second = await fleet.start()
    await waitForFinal(second.client, accepted, { timeoutMs: 30_000 })
    const sentEvents = () => {
      const ids = new Map<string, Set<string>>()
      for (const request of receiver.received) {
        const event = verifiedEvent(secret, request)
        if (event.type !== 'mail.sent') continue
        const messageId = String(event.data.id)
        const known = ids.get(messageId) ?? new Set<string>()
        known.add(request.id)
        ids.set(messageId, known)
      }
      return ids
    }
    await waitFor(() => (accepted.every((id) => sentEvents().has(id)) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `a mail.sent event for each of ${accepted.length} messages`,
    })
    const events = sentEvents()
    expect(accepted.filter((id) => !events.has(id))).toEqual([])
    // At least once, and always as the one event of its change.
    expect([...events.values()].filter((webhookIds) => webhookIds.size !== 1)).toEqual([])
  })
})
