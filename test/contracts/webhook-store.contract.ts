/**
 * What every WebhookStore promises (src/domain/webhooks/ports.ts), whatever
 * keeps it: run on the in-memory fake, the lowdb files and PostgreSQL
 * (webhook-store.test.ts). This file holds publication, endpoints and what
 * a durable store keeps; claims, settlements and replays are in
 * webhook-deliveries.contract.ts. Times are given to the store in every
 * call, so the same assertions hold for all.
 */
import { expect, it } from 'vitest'
import { webhookDeliveriesContract } from './webhook-deliveries.contract.ts'
import { LEASE, type WebhookStoreUnderTest, webhookHarness } from './webhook-store-harness.ts'

export type { WebhookStoreUnderTest } from './webhook-store-harness.ts'

export function webhookStoreContract(make: () => Promise<WebhookStoreUnderTest>): void {
  const h = webhookHarness(make)
  const { endpoint, event, attempt, claim } = h

  it('fans an event out to the enabled endpoints subscribed to its type, with secret and event as stored', async () => {
    const all = endpoint()
    const sent = endpoint(['mail.sent', 'mail.failed'])
    const other = endpoint(['account.connected'])
    const disabled = endpoint()
    for (const each of [all, sent, other, disabled]) await h.store.createEndpoint(each)
    await h.store.disableEndpoint(disabled.id, h.t0, 'answered 410')
    const published = event('mail.sent')
    await h.store.publish([published], h.t0)

    expect(await h.store.pendingCount()).toBe(2)
    const jobs = await claim('a', h.t0)
    expect(jobs.map((job) => job.endpoint.id).sort()).toEqual([all.id, sent.id].sort())
    for (const job of jobs) {
      expect(job.event).toEqual(published)
      expect(job.attempts).toBe(0)
      expect(job.firstDueAt).toBe(h.t0)
      expect(job.id).toMatch(/^dlv_/)
    }
    expect(jobs.find((job) => job.endpoint.id === sent.id)?.endpoint).toEqual(sent)
    expect(new Set(jobs.map((job) => job.id)).size).toBe(2)
  })

  it('stores an event id once: publishing it again, alone or in a batch, adds no delivery', async () => {
    await h.store.createEndpoint(endpoint())
    const once = event('mail.failed')
    await h.store.publish([once], h.t0)
    await h.store.publish([once, event('mail.held')], h.t0 + 1)
    await h.store.publish([once], h.t0 + 2)
    expect(await h.store.pendingCount()).toBe(2)
    const jobs = await claim('a', h.t0 + 10)
    expect(jobs.filter((job) => job.event.id === once.id)).toHaveLength(1)
  })

  it('drops the pending deliveries of an endpoint disabled, sends it nothing more, and says why', async () => {
    const gone = endpoint()
    const kept = endpoint()
    await h.store.createEndpoint(gone)
    await h.store.createEndpoint(kept)
    await h.store.publish([event(), event()], h.t0)
    expect(await h.store.pendingCount()).toBe(4)
    await h.store.disableEndpoint(gone.id, h.t0 + 5, 'The endpoint answered 410 Gone')
    expect(await h.store.pendingCount()).toBe(2)
    await h.store.publish([event()], h.t0 + 10)
    const jobs = await claim('a', h.t0 + 10)
    expect(jobs.map((job) => job.endpoint.id)).toEqual([kept.id, kept.id, kept.id])
    const listed = (await h.store.listEndpoints()).find((each) => each.id === gone.id)
    expect(listed).toMatchObject({ disabledAt: h.t0 + 5, disabledReason: 'The endpoint answered 410 Gone' })
    const [sent] = jobs
    const replay = {
      endpointId: gone.id,
      eventId: sent!.event.id,
      at: h.t0 + 20,
      deliveryId: 'dlv_to_disabled',
    }
    expect(await h.store.replay(replay)).toBe(false)
    expect(await h.store.pendingCount()).toBe(3)
  })

  it('deletes an endpoint with its pending deliveries, answering it once, then undefined', async () => {
    const doomed = endpoint(['mail.held'])
    const kept = endpoint(['mail.held'])
    await h.store.createEndpoint(doomed)
    await h.store.createEndpoint(kept)
    await h.store.publish([event('mail.held')], h.t0)
    const { secret: _secret, ...summary } = doomed
    expect(await h.store.deleteEndpoint(doomed.id)).toEqual(summary)
    expect(await h.store.deleteEndpoint(doomed.id)).toBeUndefined()
    expect((await h.store.listEndpoints()).map((each) => each.id)).toEqual([kept.id])
    expect(await h.store.pendingCount()).toBe(1)
    expect((await claim('a', h.t0)).map((job) => job.endpoint.id)).toEqual([kept.id])
  })

  it('refuses a second endpoint with the same id with CONFLICT', async () => {
    const first = endpoint()
    await h.store.createEndpoint(first)
    await expect(
      h.store.createEndpoint({ ...first, url: 'https://elsewhere.example.com/' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    })
    expect((await h.store.listEndpoints()).map((each) => each.url)).toEqual([first.url])
  })

  it('keeps no secret in clear where it writes', async () => {
    if (h.subject.rawText === undefined) return
    const target = endpoint()
    await h.store.createEndpoint(target)
    await h.store.publish([event()], h.t0)
    const text = await h.subject.rawText()
    expect(text).toContain(target.id)
    expect(text).not.toContain(target.secret)
    expect(text).not.toContain(target.secret.slice('whsec_'.length))
    expect(text).not.toContain('IN-CLEAR')
  })

  it('keeps endpoints, pending deliveries and attempts across a reopen, secrets still opening', async () => {
    if (h.subject.reopen === undefined) return
    const target = endpoint()
    await h.store.createEndpoint(target)
    await h.store.publish([event(), event()], h.t0)
    const [job] = await claim('a', h.t0, 1)
    await h.store.settle({
      owner: 'a',
      deliveryId: job!.id,
      attempt: attempt(job!, h.t0 + 1),
      next: { done: 'gave_up' },
    })

    const reopened = await h.subject.reopen()
    const { secret: _secret, ...summary } = target
    expect(await reopened.listEndpoints()).toEqual([{ ...summary, lastAttempt: attempt(job!, h.t0 + 1) }])
    expect(await reopened.attempts(target.id, 10)).toEqual([attempt(job!, h.t0 + 1)])
    expect(await reopened.pendingCount()).toBe(1)
    const jobs = await reopened.claimDue({ owner: 'b', now: h.t0 + 1, leaseMs: LEASE, limit: 10 })
    expect(jobs).toHaveLength(1)
    expect(jobs[0]!.endpoint).toEqual(target)
    expect(jobs[0]!.id).not.toBe(job!.id)
  })

  webhookDeliveriesContract(h)
}
