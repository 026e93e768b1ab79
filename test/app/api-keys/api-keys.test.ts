/**
 * The API key use cases over the in-memory store: making a key (shown
 * once, stored as its SHA-256), listing (configured first, never a key or
 * digest), revoking (at once; not a configured key), and the verification
 * the gate asks on every request, with `lastUsedAt` written at most once a
 * minute per key.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createApiKeys } from '../../../src/app/api-keys/api-keys.ts'
import type { ApiKeyStore } from '../../../src/domain/api-keys/api-key.ts'
import { memoryApiKeyStore } from '../../fakes/api-keys.ts'
import { manualTime } from '../../fakes/clock.ts'

const sha256Hex = async (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
const CONFIGURED = 'configured-key-0123456789abcdef'
const HASHED = 'hashed-configured-key-0123456789'

async function setup(options: { store?: ApiKeyStore & { entries?: unknown } } = {}) {
  const time = manualTime()
  const store = options.store ?? memoryApiKeyStore()
  const keys = await createApiKeys({
    configured: [CONFIGURED, `sha256:${await sha256Hex(HASHED)}`],
    store,
    sha256Hex,
    clock: time,
  })
  return { time, store, ...keys }
}

/** Runs the microtasks a fire-and-forget write queued. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('making a key', () => {
  it('gives a gms_ key of 32 random bytes once, and stores only its SHA-256', async () => {
    const { admin, store } = await setup()
    const made = await admin.create({ name: ' Contact form ', scope: { procedures: ['mail.send'] } })
    expect(made.key).toMatch(/^gms_[A-Za-z0-9_-]{43}$/)
    expect(made).toMatchObject({ id: expect.stringMatching(/^key_[A-Za-z0-9_-]{16}$/), name: 'Contact form' })
    expect(made).toMatchObject({ source: 'api', scope: { procedures: ['mail.send'] } })
    const [stored] = await store.list()
    expect(stored!.digest).toBe(await sha256Hex(made.key))
    expect(JSON.stringify(await store.list())).not.toContain(made.key)
    const other = await admin.create({ name: 'Other' })
    expect(other.key).not.toBe(made.key)
    expect(other.id).not.toBe(made.id)
  })

  it('refuses a bad scope or name with BAD_REQUEST naming the field, storing nothing', async () => {
    const { admin, store } = await setup()
    await expect(
      admin.create({ name: 'Bad', scope: { procedures: ['admin.keys.create'] } }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      issues: [expect.objectContaining({ path: 'scope.procedures.0' })],
    })
    await expect(
      admin.create({ name: 'Bad', scope: { origins: ['https://shop.example/form'] } }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/scope\.origins\.0: An origin is/),
    })
    await expect(admin.create({ name: '   ' })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    await expect(
      admin.create({ name: 'Sneaky', scope: { procedures: ['mail.send'], extra: true } as never }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    expect(await store.list()).toEqual([])
  })
})

describe('listing keys', () => {
  it('lists the configured keys first (not revocable), then the stored ones, never a key or a digest', async () => {
    const { admin } = await setup()
    const made = await admin.create({ name: 'Shop', scope: { from: ['Support@Example.com'] } })
    const listed = await admin.list()
    expect(listed.map((key) => [key.id.slice(0, 4), key.source, key.name])).toEqual([
      ['key-', 'config', 'API_KEYS key 1'],
      ['key-', 'config', 'API_KEYS key 2'],
      ['key_', 'api', 'Shop'],
    ])
    expect(listed[1]!.id).toBe(`key-${(await sha256Hex(HASHED)).slice(0, 8)}`)
    expect(listed[2]).toEqual({
      id: made.id,
      name: 'Shop',
      scope: { from: ['support@example.com'] },
      source: 'api',
      createdAt: made.createdAt,
    })
    const text = JSON.stringify(listed)
    expect(text).not.toContain(made.key)
    expect(text).not.toContain(await sha256Hex(made.key))
    expect(text).not.toContain(CONFIGURED)
    expect(text).not.toContain('digest')
  })
})

describe('revoking a key', () => {
  it('refuses the key at its very next request, and keeps it listed as revoked', async () => {
    const { admin, verifier, time } = await setup()
    const made = await admin.create({ name: 'Laptop' })
    expect(await verifier.verify(made.key)).toMatchObject({ id: made.id, source: 'api', scope: {} })
    await time.advance(1_000)
    const revoked = await admin.revoke(made.id)
    expect(revoked).toMatchObject({ id: made.id, revokedAt: new Date(time.now()).toISOString() })
    expect(await verifier.verify(made.key)).toBeUndefined()
    expect((await admin.list()).at(-1)).toMatchObject({ id: made.id, revokedAt: revoked.revokedAt })
  })

  it('answers NOT_FOUND for an unknown id and BAD_REQUEST for a configured key, which keeps working', async () => {
    const { admin, verifier } = await setup()
    await expect(admin.revoke('key_nope')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const configured = (await admin.list())[0]!
    await expect(admin.revoke(configured.id)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/comes from API_KEYS: remove it there and restart/),
    })
    expect(await verifier.verify(CONFIGURED)).toMatchObject({ id: configured.id, source: 'config' })
  })
})

describe('verifying a presented key', () => {
  it('knows configured keys (plain or by digest) and stored ones, and nothing else', async () => {
    const { admin, verifier } = await setup()
    const made = await admin.create({
      name: 'Scoped',
      scope: { procedures: ['mail.send'], ratePerMinute: 30 },
    })
    expect(await verifier.verify(CONFIGURED)).toMatchObject({ source: 'config', scope: {} })
    expect(await verifier.verify(HASHED)).toMatchObject({ source: 'config' })
    expect(await verifier.verify(made.key)).toEqual({
      id: made.id,
      name: 'Scoped',
      source: 'api',
      scope: { procedures: ['mail.send'], ratePerMinute: 30 },
    })
    for (const wrong of [
      `${made.key}x`,
      made.key.slice(0, -1),
      await sha256Hex(made.key),
      `sha256:${await sha256Hex(HASHED)}`,
    ]) {
      expect(await verifier.verify(wrong)).toBeUndefined()
    }
  })

  it('records lastUsedAt at most once a minute per key', async () => {
    const store = memoryApiKeyStore()
    const touches: number[] = []
    const counted: ApiKeyStore = {
      ...store,
      touch: async (id, at) => {
        touches.push(at)
        await store.touch(id, at)
      },
    }
    const { admin, verifier, time } = await setup({ store: counted })
    const made = await admin.create({ name: 'Busy' })
    const start = time.now()
    for (let second = 0; second < 130; second += 10) {
      time.set(start + second * 1_000)
      await verifier.verify(made.key)
      await settle()
    }
    expect(touches).toEqual([start, start + 60_000, start + 120_000])
    expect((await admin.list()).at(-1)!.lastUsedAt).toBe(new Date(start + 120_000).toISOString())
    // A configured key has no stored row: its last use is known to this process.
    await verifier.verify(CONFIGURED)
    expect((await admin.list())[0]!.lastUsedAt).toBe(new Date(time.now()).toISOString())
  })

  it('gives the origins of the keys not revoked, at once after a change made here', async () => {
    const { admin, verifier } = await setup()
    expect([...(await verifier.origins())]).toEqual([])
    const shop = await admin.create({ name: 'Shop', scope: { origins: ['https://shop.example'] } })
    await admin.create({ name: 'Blog', scope: { origins: ['https://blog.example', 'https://shop.example'] } })
    expect([...(await verifier.origins())].sort()).toEqual(['https://blog.example', 'https://shop.example'])
    await admin.revoke(shop.id)
    expect([...(await verifier.origins())].sort()).toEqual(['https://blog.example', 'https://shop.example'])
    const blog = (await admin.list()).find((key) => key.name === 'Blog')!
    await admin.revoke(blog.id)
    expect([...(await verifier.origins())]).toEqual([])
  })

  it("sees another process's new key origins once the cache is 5 s old", async () => {
    const store = memoryApiKeyStore()
    const one = await setup({ store })
    const two = await createApiKeys({ configured: [], store, sha256Hex, clock: one.time })
    expect([...(await one.verifier.origins())]).toEqual([])
    await two.admin.create({ name: 'Elsewhere', scope: { origins: ['https://elsewhere.example'] } })
    expect([...(await one.verifier.origins())]).toEqual([])
    await one.time.advance(5_000)
    expect([...(await one.verifier.origins())]).toEqual(['https://elsewhere.example'])
  })
})
