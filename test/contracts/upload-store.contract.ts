/**
 * What every upload store promises (`UploadStore` of domain/upload-ports.ts):
 * run on the in-memory fake, on lowdb's files and on PostgreSQL
 * (uploads.test.ts). `passTime` moves the store's clock (PostgreSQL: its
 * rows' times), so that expiry is tested without waiting.
 */
import { createHash } from 'node:crypto'
import { beforeEach, expect, it } from 'vitest'
import type { UploadStore } from '../../src/domain/upload-ports.ts'
import { randomBytes } from '../support/uploads.ts'

export interface UploadStoreHarness {
  store: UploadStore
  passTime(ms: number): Promise<void>
}

const HOUR = 3_600_000
const KEY = 'key-one'
const OTHER_KEY = 'key-two'

let sequence = 0
export const newUploadId = () => `up_contract_${Date.now().toString(36)}_${++sequence}`

/** Pseudo-random bytes (xorshift), the same for a seed. */
export function bytesOf(length: number, seed = 7): Uint8Array {
  return randomBytes(length, seed)
}

/** `bytes` in chunks of the sizes given, cycling. */
export async function* chunked(bytes: Uint8Array, sizes = [1, 100, 65_536, 7]): AsyncGenerator<Uint8Array> {
  let at = 0
  for (let i = 0; at < bytes.byteLength; i++) {
    const size = sizes[i % sizes.length]!
    yield bytes.slice(at, at + size)
    at += size
  }
}

export async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk.slice())
  return Buffer.concat(parts)
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

export function uploadStoreContract(make: () => Promise<UploadStoreHarness>): void {
  let harness: UploadStoreHarness
  let store: UploadStore
  beforeEach(async () => {
    harness = await make()
    store = harness.store
  })
  const put = (bytes: Uint8Array, options: { apiKeyId?: string; ttlMs?: number; uploadId?: string } = {}) =>
    store.put({
      uploadId: options.uploadId ?? newUploadId(),
      apiKeyId: options.apiKeyId ?? KEY,
      chunks: chunked(bytes),
      ttlMs: options.ttlMs ?? HOUR,
    })

  it('stores the bytes of a stream and gives them back as they came, with their size and SHA-256', async () => {
    // 2.5 MiB: several of PostgreSQL's rows and of lowdb's reads.
    const bytes = bytesOf(2_621_440 + 3)
    const receipt = await put(bytes)
    expect(receipt).toMatchObject({ size: bytes.byteLength, sha256: sha256(bytes) })
    expect(receipt.expiresAt).toEqual(expect.any(Number))
    expect(Buffer.compare(await readAll(store.read(receipt.uploadId)), bytes)).toBe(0)
  })

  it('stores an empty upload', async () => {
    const receipt = await put(new Uint8Array(0))
    expect(receipt.size).toBe(0)
    expect((await readAll(store.read(receipt.uploadId))).byteLength).toBe(0)
  })

  it('lets only the key that made an upload claim it, and only once until the claim is given back', async () => {
    const bytes = bytesOf(10_000)
    const { uploadId } = await put(bytes)
    expect(await store.claim({ uploadId, apiKeyId: OTHER_KEY, messageId: 'm-1' })).toBeUndefined()
    expect(await store.claim({ uploadId, apiKeyId: KEY, messageId: 'm-1' })).toEqual({
      size: 10_000,
      sha256: sha256(bytes),
    })
    expect(await store.claim({ uploadId, apiKeyId: KEY, messageId: 'm-2' })).toBeUndefined()
    // Only the claiming message gives it back.
    await store.release({ uploadId, messageId: 'm-2' })
    expect(await store.claim({ uploadId, apiKeyId: KEY, messageId: 'm-3' })).toBeUndefined()
    await store.release({ uploadId, messageId: 'm-1' })
    expect(await store.claim({ uploadId, apiKeyId: KEY, messageId: 'm-3' })).toMatchObject({ size: 10_000 })
  })

  it('knows no upload by an id it never stored', async () => {
    expect(await store.claim({ uploadId: newUploadId(), apiKeyId: KEY, messageId: 'm-1' })).toBeUndefined()
    await expect(readAll(store.read(newUploadId()))).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('deletes what it is told to: the upload can be neither claimed nor read', async () => {
    const { uploadId } = await put(bytesOf(100))
    await store.remove([uploadId])
    expect(await store.claim({ uploadId, apiKeyId: KEY, messageId: 'm-1' })).toBeUndefined()
    await expect(readAll(store.read(uploadId))).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('expires an unused upload once its time has run out, and keeps the others', async () => {
    const short = await put(bytesOf(100), { ttlMs: 60_000 })
    const long = await put(bytesOf(100), { ttlMs: 2 * HOUR })
    await harness.passTime(60_000)
    expect(await store.claim({ uploadId: short.uploadId, apiKeyId: KEY, messageId: 'm-1' })).toBeUndefined()
    expect(await store.expire()).toBe(1)
    await expect(readAll(store.read(short.uploadId))).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await store.claim({ uploadId: long.uploadId, apiKeyId: KEY, messageId: 'm-2' })).toMatchObject({
      size: 100,
    })
    expect(await store.expire()).toBe(0)
  })

  it('keeps an upload claimed by a composition under way past its expiry, and expires it once given back', async () => {
    const { uploadId } = await put(bytesOf(100), { ttlMs: 60_000 })
    expect(await store.claim({ uploadId, apiKeyId: KEY, messageId: 'm-1' })).toBeDefined()
    await harness.passTime(60_000)
    expect(await store.expire()).toBe(0)
    expect((await readAll(store.read(uploadId))).byteLength).toBe(100)
    await store.release({ uploadId, messageId: 'm-1' })
    expect(await store.expire()).toBe(1)
  })

  it('rethrows the error of a stream that fails, and keeps nothing of it', async () => {
    const uploadId = newUploadId()
    const failure = new Error('the client went away')
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield bytesOf(2_000_000)
      throw failure
    }
    await expect(store.put({ uploadId, apiKeyId: KEY, chunks: broken(), ttlMs: HOUR })).rejects.toBe(failure)
    expect(await store.claim({ uploadId, apiKeyId: KEY, messageId: 'm-1' })).toBeUndefined()
    await expect(readAll(store.read(uploadId))).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
}
