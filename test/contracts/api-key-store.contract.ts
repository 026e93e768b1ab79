/**
 * What every ApiKeyStore promises, whatever keeps the keys: run on the
 * in-memory fake, the lowdb file and PostgreSQL (api-key-store.test.ts).
 * A durable store is also held to what survives a reopen (a restart, or
 * another replica) and to keeping no key in clear where it writes.
 */
import { beforeEach, expect, it } from 'vitest'
import { sha256Hex } from '../../src/app/input-hash.ts'
import type { ApiKeyEntry, ApiKeyStore } from '../../src/domain/api-keys/api-key.ts'

/** One empty store, made fresh for each test. */
export interface ApiKeyStoreUnderTest {
  /** A store on the storage; called again, another one on the same storage (a reopen, a new pool). */
  open(): Promise<ApiKeyStore>
  /** Everything the store wrote (its files, its rows) as text; absent for a store that writes nothing (the fake). */
  rawText?(): Promise<string>
}

const T = Date.UTC(2026, 4, 10, 12, 0, 0)

/** A key as `admin.keys.create` would hand it out once; only its digest may be stored. */
const KEY_IN_CLEAR = 'gsk_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0-IN-CLEAR'

/** A distinct digest per name: SHA-256 hex of the name. */
const digestOf = (text: string) => sha256Hex(new TextEncoder().encode(text))

async function key(id: string, overrides: Partial<ApiKeyEntry> = {}): Promise<ApiKeyEntry> {
  return {
    id,
    name: `Key ${id}`,
    digest: await digestOf(id),
    scope: {},
    source: 'api',
    createdAt: T,
    ...overrides,
  }
}

/** A key with every field set, the scope's too. */
async function contactFormKey(): Promise<ApiKeyEntry> {
  return key('key_contact', {
    name: 'Contact form',
    digest: await digestOf(KEY_IN_CLEAR),
    scope: {
      procedures: ['mail.send'],
      from: ['support@example.com'],
      recipients: ['support@example.com', '@example.org'],
      origins: ['https://shop.example'],
      ratePerMinute: 30,
    },
    createdAt: T + 5,
    lastUsedAt: T + 60_000,
  })
}

/** `durable`: the store writes somewhere (files, a database), so reopening and the raw text are tested too. */
export function apiKeyStoreContract(
  fresh: () => Promise<ApiKeyStoreUnderTest>,
  options: { durable: boolean },
): void {
  let store: ApiKeyStoreUnderTest
  let keys: ApiKeyStore
  beforeEach(async () => {
    store = await fresh()
    keys = await store.open()
  })

  it('gives back a created key as it was created, scope and times included, and no field it was not given', async () => {
    const full = await contactFormKey()
    const bare = await key('key_bare', { createdAt: T + 10 })
    await keys.create(full)
    await keys.create(bare)
    expect(await keys.list()).toStrictEqual([full, bare])
    expect(await keys.findByDigest(full.digest)).toStrictEqual(full)
    expect(await keys.findByDigest(bare.digest)).toStrictEqual(bare)
  })

  it('knows no key it was not given', async () => {
    expect(await keys.list()).toEqual([])
    expect(await keys.findByDigest(await digestOf('nobody'))).toBeUndefined()
  })

  it('lists oldest first, keys made in the same millisecond in the order they were made', async () => {
    await keys.create(await key('key_c', { createdAt: T + 2 }))
    await keys.create(await key('key_a', { createdAt: T }))
    await keys.create(await key('key_b2', { createdAt: T + 1 }))
    await keys.create(await key('key_b1', { createdAt: T + 1 }))
    expect((await keys.list()).map((entry) => entry.id)).toEqual(['key_a', 'key_b2', 'key_b1', 'key_c'])
  })

  it('refuses a second key with the same id or the same digest with CONFLICT, storing nothing of it', async () => {
    const first = await key('key_one')
    await keys.create(first)
    await expect(keys.create(await key('key_one', { name: 'Other' }))).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'An API key with the id "key_one" already exists',
    })
    await expect(keys.create({ ...first, id: 'key_two' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'An API key with the same digest already exists',
    })
    expect(await keys.list()).toStrictEqual([first])
  })

  it('of two keys with one digest made at once, stores one and refuses the other', async () => {
    const digest = await digestOf('raced')
    const outcomes = await Promise.allSettled([
      keys.create(await key('key_r1', { digest })),
      keys.create(await key('key_r2', { digest })),
    ])
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({
      reason: { code: 'CONFLICT' },
    })
    expect(await keys.list()).toHaveLength(1)
  })

  it('refuses a digest that is not a SHA-256 in hex, so that a key given by mistake is never stored', async () => {
    for (const digest of [KEY_IN_CLEAR, (await digestOf('x')).toUpperCase(), '']) {
      await expect(keys.create(await key('key_bad', { digest }))).rejects.toMatchObject({
        code: 'INTERNAL',
      })
    }
    expect(await keys.list()).toEqual([])
  })

  it('finds a revoked key by its digest, with the time it was revoked', async () => {
    const entry = await key('key_rev')
    await keys.create(entry)
    expect(await keys.revoke('key_rev', T + 1_000)).toStrictEqual({ ...entry, revokedAt: T + 1_000 })
    expect(await keys.findByDigest(entry.digest)).toStrictEqual({ ...entry, revokedAt: T + 1_000 })
    expect(await keys.list()).toStrictEqual([{ ...entry, revokedAt: T + 1_000 }])
  })

  it('keeps the first revocation time on a second revoke, and knows no unknown id', async () => {
    const entry = await key('key_twice')
    await keys.create(entry)
    await keys.create(await key('key_other'))
    await keys.revoke('key_twice', T + 1_000)
    expect(await keys.revoke('key_twice', T + 9_000)).toMatchObject({ revokedAt: T + 1_000 })
    expect(await keys.findByDigest(entry.digest)).toMatchObject({ revokedAt: T + 1_000 })
    expect(await keys.revoke('key_unknown', T + 1_000)).toBeUndefined()
    expect((await keys.list()).map((each) => each.revokedAt)).toEqual([T + 1_000, undefined])
  })

  it('records the last use, never moving it back for a late, older touch, and ignores an unknown id', async () => {
    const entry = await key('key_used')
    await keys.create(entry)
    await keys.touch('key_used', T + 2_000)
    expect(await keys.findByDigest(entry.digest)).toStrictEqual({ ...entry, lastUsedAt: T + 2_000 })
    await keys.touch('key_used', T + 1_000)
    expect(await keys.findByDigest(entry.digest)).toMatchObject({ lastUsedAt: T + 2_000 })
    await keys.touch('key_used', T + 3_000)
    expect(await keys.findByDigest(entry.digest)).toMatchObject({ lastUsedAt: T + 3_000 })
    await keys.touch('key_unknown', T + 3_000)
    expect(await keys.list()).toStrictEqual([{ ...entry, lastUsedAt: T + 3_000 }])
  })

  it('hands out copies: changing a returned key changes nothing stored', async () => {
    const entry = await contactFormKey()
    await keys.create(entry)
    const found = await keys.findByDigest(entry.digest)
    found!.scope.recipients!.push('anyone@example.net')
    found!.revokedAt = T
    const [listed] = await keys.list()
    listed!.scope.procedures = ['admin.keys.create']
    expect(await keys.findByDigest(entry.digest)).toStrictEqual(entry)
  })

  if (!options.durable) return

  it('keeps every key, its revocation and its last use across a reopen', async () => {
    const full = await contactFormKey()
    const revoked = await key('key_revoked', { createdAt: T + 10 })
    await keys.create(full)
    await keys.create(revoked)
    await keys.revoke('key_revoked', T + 20)
    await keys.touch('key_contact', T + 90_000)
    const reopened = await store.open()
    expect(await reopened.list()).toStrictEqual([
      { ...full, lastUsedAt: T + 90_000 },
      { ...revoked, revokedAt: T + 20 },
    ])
    expect(await reopened.findByDigest(revoked.digest)).toMatchObject({ revokedAt: T + 20 })
  })

  it('never writes a key in clear: only its digest', async () => {
    const entry = await contactFormKey()
    await keys.create(entry)
    await keys.touch(entry.id, T + 70_000)
    const text = (await store.rawText?.()) ?? ''
    // The text read is the store's: the key is there, by its digest only.
    expect(text).toContain('Contact form')
    expect(text).toContain(await digestOf(KEY_IN_CLEAR))
    expect(text).not.toContain(KEY_IN_CLEAR)
    expect(text).not.toContain('IN-CLEAR')
  })
}
