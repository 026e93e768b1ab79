/**
 * The webhook-store contract's claims, settlements, attempts and replays
 * (see webhook-store.contract.ts, which runs it with the same harness).
 */
import { expect, it } from 'vitest'
import type { DeliveryAttemptRecord } from '../../src/domain/webhooks/event.ts'
import { LEASE, SECOND, type WebhookHarness } from './webhook-store-harness.ts'

export function webhookDeliveriesContract(h: WebhookHarness): void {
  const { endpoint, event, attempt, claim } = h

  it('claims due deliveries oldest due first, up to the limit, and none before it is due', async () => {
    await h.store.createEndpoint(endpoint())
    const [first, second, third] = [event(), event(), event()]
    await h.store.publish([second!], h.t0 + 2 * SECOND)
    await h.store.publish([first!], h.t0 + SECOND)
    await h.store.publish([third!], h.t0 + 3 * SECOND)
    expect(await claim('a', h.t0)).toEqual([])
    expect(await h.store.nextDueAt()).toBe(h.t0 + SECOND)
    const jobs = await claim('a', h.t0 + 5 * SECOND, 2)
    expect(jobs.map((job) => job.event.id)).toEqual([first!.id, second!.id])
    expect((await claim('b', h.t0 + 5 * SECOND)).map((job) => job.event.id)).toEqual([third!.id])
  })

  it('skips a delivery another owner holds, and hands it over once the lease has run out', async () => {
    await h.store.createEndpoint(endpoint())
    await h.store.publish([event()], h.t0)
    const [held] = await claim('a', h.t0)
    expect(held).toBeDefined()
    expect(await claim('b', h.t0 + 1)).toEqual([])
    expect(await claim('b', h.t0 + LEASE - 1)).toEqual([])
    expect(await h.store.nextDueAt()).toBe(h.t0 + LEASE)
    const [taken] = await claim('b', h.t0 + LEASE)
    expect(taken?.id).toBe(held!.id)
    expect(taken?.attempts).toBe(0)
    expect(await h.store.pendingCount()).toBe(1)
  })

  it('settles only for the owner of the claim: a lease taken over makes the old owner’s settle write nothing', async () => {
    const target = endpoint()
    await h.store.createEndpoint(target)
    await h.store.publish([event()], h.t0)
    const [job] = await claim('a', h.t0)
    await claim('b', h.t0 + LEASE)
    const late = await h.store.settle({
      owner: 'a',
      deliveryId: job!.id,
      attempt: attempt(job!, h.t0 + LEASE + 1, { status: 204, ok: true }),
      next: { done: 'delivered' },
    })
    expect(late).toBe(false)
    expect(await h.store.attempts(target.id, 10)).toEqual([])
    expect(await h.store.pendingCount()).toBe(1)
    const onTime = await h.store.settle({
      owner: 'b',
      deliveryId: job!.id,
      attempt: attempt(job!, h.t0 + LEASE + 2, { status: 204, ok: true }),
      next: { done: 'delivered' },
    })
    expect(onTime).toBe(true)
    expect(await h.store.pendingCount()).toBe(0)
    expect(
      await h.store.settle({
        owner: 'c',
        deliveryId: 'dlv_unknown',
        attempt: attempt(job!, h.t0),
        next: { done: 'gave_up' },
      }),
    ).toBe(false)
  })

  it('reschedules a retry: not claimable before retryAt, then the same event with one attempt more', async () => {
    await h.store.createEndpoint(endpoint())
    const published = event('account.expiring')
    await h.store.publish([published], h.t0)
    const [job] = await claim('a', h.t0)
    const retryAt = h.t0 + 5 * SECOND
    expect(
      await h.store.settle({
        owner: 'a',
        deliveryId: job!.id,
        attempt: attempt(job!, h.t0 + 100),
        next: { retryAt },
      }),
    ).toBe(true)
    expect(await h.store.nextDueAt()).toBe(retryAt)
    expect(await claim('a', retryAt - 1)).toEqual([])
    const [again] = await claim('b', retryAt)
    expect(again).toMatchObject({ id: job!.id, attempts: 1, firstDueAt: h.t0, event: published })
  })

  it('finishes a delivery for good when done: delivered or given up, never claimed again', async () => {
    await h.store.createEndpoint(endpoint())
    await h.store.publish([event(), event()], h.t0)
    const jobs = await claim('a', h.t0)
    const ends = ['delivered', 'gave_up'] as const
    for (const [index, job] of jobs.entries()) {
      const ok = ends[index] === 'delivered'
      const settled = await h.store.settle({
        owner: 'a',
        deliveryId: job.id,
        attempt: attempt(job, h.t0 + 10, ok ? { status: 200, ok } : { error: 'timeout', ok }),
        next: { done: ends[index]! },
      })
      expect(settled).toBe(true)
    }
    expect(await h.store.pendingCount()).toBe(0)
    expect(await h.store.nextDueAt()).toBeUndefined()
    expect(await claim('b', h.t0 + 100 * LEASE)).toEqual([])
  })

  it('lists attempts newest first, up to the limit, and each endpoint with its last attempt and no secret', async () => {
    const target = endpoint(['mail.sent'])
    const quiet = endpoint(['account.connected'])
    await h.store.createEndpoint(target)
    await h.store.createEndpoint(quiet)
    await h.store.publish([event('mail.sent')], h.t0)
    const recorded: DeliveryAttemptRecord[] = []
    for (let round = 0; round < 3; round++) {
      const now = h.t0 + round * 10 * SECOND
      const [job] = await claim('a', now)
      const made = attempt(job!, now + 1, round === 1 ? { error: 'connection refused' } : {})
      if (round === 1) delete made.status
      recorded.push(made)
      await h.store.settle({
        owner: 'a',
        deliveryId: job!.id,
        attempt: made,
        next: { retryAt: now + 10 * SECOND },
      })
    }
    expect(await h.store.attempts(target.id, 10)).toEqual([...recorded].reverse())
    expect(await h.store.attempts(target.id, 2)).toEqual([recorded[2], recorded[1]])
    expect(await h.store.attempts(quiet.id, 10)).toEqual([])
    const listed = await h.store.listEndpoints()
    const { secret: _a, ...targetRest } = target
    const { secret: _b, ...quietRest } = quiet
    expect(listed).toEqual([{ ...targetRest, lastAttempt: recorded[2] }, quietRest])
    expect(JSON.stringify(listed)).not.toContain('whsec_')
  })

  it('replays a stored event to an endpoint as a fresh delivery, and refuses an unknown one', async () => {
    const target = endpoint()
    await h.store.createEndpoint(target)
    const published = event('mail.canceled')
    await h.store.publish([published], h.t0)
    const [job] = await claim('a', h.t0)
    await h.store.settle({
      owner: 'a',
      deliveryId: job!.id,
      attempt: attempt(job!, h.t0 + 1, { status: 204, ok: true }),
      next: { done: 'delivered' },
    })

    const at = h.t0 + 60 * SECOND
    const replayed = { endpointId: target.id, eventId: published.id, at, deliveryId: 'dlv_replay_1' }
    expect(await h.store.replay(replayed)).toBe(true)
    expect(await h.store.nextDueAt()).toBe(at)
    expect(await claim('a', at)).toEqual([
      { id: 'dlv_replay_1', endpoint: target, event: published, attempts: 0, firstDueAt: at },
    ])
    expect(await h.store.replay({ ...replayed, eventId: 'evt_unknown', deliveryId: 'dlv_replay_2' })).toBe(
      false,
    )
    expect(await h.store.replay({ ...replayed, endpointId: 'wh_unknown', deliveryId: 'dlv_replay_3' })).toBe(
      false,
    )
  })
}
