/**
 * What every large-body store promises (`LargeBodyStore` of
 * domain/upload-ports.ts): run on the in-memory fake, lowdb's files and
 * PostgreSQL (uploads.test.ts).
 */
import { createHash } from 'node:crypto'
import { beforeEach, expect, it } from 'vitest'
import type { LargeBodyStore } from '../../src/domain/upload-ports.ts'
import { bytesOf, chunked, readAll } from './upload-store.contract.ts'

let sequence = 0
const newId = () => `m${Date.now().toString(36)}x${++sequence}`
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

export function largeBodyStoreContract(make: () => Promise<LargeBodyStore>): void {
  let bodies: LargeBodyStore
  beforeEach(async () => {
    bodies = await make()
  })

  it('stores a body from a stream and opens it, checked, as often as it is sent', async () => {
    const bytes = bytesOf(3_145_728 + 11, 3)
    const id = newId()
    expect(await bodies.write(id, chunked(bytes))).toEqual({ size: bytes.byteLength, sha256: sha256(bytes) })
    const stream = await bodies.open(id, { size: bytes.byteLength, sha256: sha256(bytes) })
    expect(stream?.size).toBe(bytes.byteLength)
    // A retried send reads it again from the start.
    for (let pass = 0; pass < 2; pass++) expect(Buffer.compare(await readAll(stream!.open()), bytes)).toBe(0)
    expect((await bodies.list()).map((body) => body.id)).toContain(id)
    expect((await bodies.list()).find((body) => body.id === id)?.ageMs).toBeGreaterThanOrEqual(0)
  })

  it('has no body for an id never written', async () => {
    expect(await bodies.open(newId())).toBeUndefined()
  })

  it('refuses a second body for one id, keeping the first', async () => {
    const id = newId()
    const first = bytesOf(5_000, 1)
    await bodies.write(id, chunked(first))
    await expect(bodies.write(id, chunked(bytesOf(5_000, 2)))).rejects.toMatchObject({ code: 'CONFLICT' })
    expect(Buffer.compare(await readAll((await bodies.open(id))!.open()), first)).toBe(0)
  })

  it('keeps nothing of a stream that fails, and rethrows its error', async () => {
    const id = newId()
    const failure = new Error('composition failed')
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield bytesOf(1_500_000)
      throw failure
    }
    await expect(bodies.write(id, broken())).rejects.toBe(failure)
    expect(await bodies.open(id)).toBeUndefined()
    expect((await bodies.list()).map((body) => body.id)).not.toContain(id)
  })

  it('fails a pass over a body that differs from what was recorded before its last chunk', async () => {
    const bytes = bytesOf(2_500_000, 5)
    const id = newId()
    await bodies.write(id, chunked(bytes))
    const stream = await bodies.open(id, { size: bytes.byteLength, sha256: sha256(bytesOf(2_500_000, 6)) })
    let passed = 0
    const reading = (async () => {
      for await (const chunk of stream!.open()) passed += chunk.byteLength
    })()
    await expect(reading).rejects.toMatchObject({ code: 'BODY_DAMAGED' })
    expect(passed).toBeLessThan(bytes.byteLength)
    await expect(bodies.open(id, { size: 1, sha256: sha256(bytes) })).rejects.toMatchObject({
      code: 'BODY_DAMAGED',
    })
  })

  it('removes bodies', async () => {
    const id = newId()
    await bodies.write(id, chunked(bytesOf(100)))
    await bodies.remove([id])
    expect(await bodies.open(id)).toBeUndefined()
    expect((await bodies.list()).map((body) => body.id)).not.toContain(id)
  })
}
