import { describe, expect, it } from 'vitest'
import { createWebhookAdmin } from '../../../src/app/webhooks/webhook-admin.ts'
import { isServiceError } from '../../../src/domain/errors.ts'
import { manualTime } from '../../fakes/clock.ts'
import { memoryWebhookStore } from '../../fakes/webhooks.ts'

function setup() {
  const time = manualTime()
  const store = memoryWebhookStore()
  let seq = 0
  let replays = 0
  const admin = createWebhookAdmin({
    store,
    clock: time,
    newSecret: () => `whsec_${Buffer.alloc(32, ++seq).toString('base64')}`,
    newId: (prefix) => `${prefix}_${++seq}`,
    onReplay: () => {
      replays += 1
    },
  })
  return { time, store, admin, replays: () => replays }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return isServiceError(error) ? error.code : 'not a ServiceError'
  }
  return 'no error'
}

describe('the webhook admin', () => {
  it('creates an endpoint with a whsec_ secret shown only in the answer to create', async () => {
    const { admin, store, time } = setup()
    const made = await admin.create({
      url: 'https://hooks.example/in?team=1',
      events: ['mail.failed', 'mail.sent'],
    })
    expect(made).toMatchObject({
      url: 'https://hooks.example/in?team=1',
      events: ['mail.sent', 'mail.failed'],
      createdAt: new Date(time.now()).toISOString(),
    })
    expect(made.secret).toMatch(/^whsec_/)
    expect(store.endpoints.get(made.id)?.secret).toBe(made.secret)
    const listed = await admin.list()
    expect(listed).toEqual([{ id: made.id, url: made.url, events: made.events, createdAt: made.createdAt }])
    expect(JSON.stringify(listed)).not.toContain(made.secret)
    expect(JSON.stringify(await admin.delete(made.id))).not.toContain(made.secret)
    expect(await admin.list()).toEqual([])
  })

  it('subscribes to every event when none is named', async () => {
    const { admin } = setup()
    expect((await admin.create({ url: 'http://127.0.0.1:9000/' })).events).toEqual([])
  })

  it('refuses URLs that are not http(s), carry credentials or a fragment, and unknown event types', async () => {
    const { admin, store } = setup()
    for (const url of [
      'ftp://hooks.example/',
      'javascript:alert(1)',
      'hooks.example/in',
      'https://user:pass@hooks.example/',
      'https://token@hooks.example/',
      'https://hooks.example/#x',
      `https://hooks.example/${'a'.repeat(2_100)}`,
      '',
    ]) {
      expect(await codeOf(admin.create({ url })), url).toBe('BAD_REQUEST')
    }
    expect(
      await codeOf(admin.create({ url: 'https://hooks.example/', events: ['mail.opened' as never] })),
    ).toBe('BAD_REQUEST')
    expect(store.endpoints.size).toBe(0)
  })

  it('lists an endpoint with its last delivery, and its deliveries newest first', async () => {
    const { admin, store, time } = setup()
    const made = await admin.create({ url: 'https://hooks.example/' })
    await store.publish([{ id: 'evt_1', type: 'mail.sent', at: time.now(), data: {} }], time.now())
    for (const status of [500, 204]) {
      const [job] = await store.claimDue({ owner: 'me', now: time.now(), leaseMs: 1_000, limit: 1 })
      await store.settle({
        owner: 'me',
        deliveryId: job!.id,
        attempt: {
          deliveryId: job!.id,
          endpointId: made.id,
          eventId: 'evt_1',
          eventType: 'mail.sent',
          at: time.now(),
          status,
          ok: status === 204,
          durationMs: 12,
        },
        next: status === 204 ? { done: 'delivered' } : { retryAt: time.now() },
      })
      await time.advance(1_000)
    }
    const deliveries = await admin.deliveries({ id: made.id })
    expect(deliveries.map((attempt) => attempt.status)).toEqual([204, 500])
    expect(deliveries[0]).toMatchObject({
      eventId: 'evt_1',
      eventType: 'mail.sent',
      ok: true,
      durationMs: 12,
    })
    expect((await admin.deliveries({ id: made.id, limit: 1 })).map((attempt) => attempt.status)).toEqual([
      204,
    ])
    expect((await admin.list())[0]?.lastDelivery?.status).toBe(204)
  })

  it('replays a stored event to an endpoint as a new delivery and wakes the dispatcher', async () => {
    const { admin, store, time, replays } = setup()
    const made = await admin.create({ url: 'https://hooks.example/' })
    await store.publish([{ id: 'evt_1', type: 'mail.sent', at: time.now(), data: {} }], time.now())
    await admin.replay({ id: made.id, eventId: 'evt_1' })
    expect(await store.pendingCount()).toBe(2)
    expect(replays()).toBe(1)
    expect(await codeOf(admin.replay({ id: made.id, eventId: 'evt_unknown' }))).toBe('NOT_FOUND')
  })

  it('answers NOT_FOUND for an unknown endpoint, and refuses to replay to a disabled one', async () => {
    const { admin, store, time } = setup()
    expect(await codeOf(admin.delete('wh_nope'))).toBe('NOT_FOUND')
    expect(await codeOf(admin.deliveries({ id: 'wh_nope' }))).toBe('NOT_FOUND')
    expect(await codeOf(admin.replay({ id: 'wh_nope', eventId: 'evt_1' }))).toBe('NOT_FOUND')
    const made = await admin.create({ url: 'https://hooks.example/' })
    await store.publish([{ id: 'evt_1', type: 'mail.sent', at: time.now(), data: {} }], time.now())
    await store.disableEndpoint(made.id, time.now(), 'The endpoint answered 410 Gone')
    expect(await codeOf(admin.replay({ id: made.id, eventId: 'evt_1' }))).toBe('BAD_REQUEST')
    expect((await admin.list())[0]).toMatchObject({ disabledReason: 'The endpoint answered 410 Gone' })
  })
})
