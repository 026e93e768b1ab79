/**
 * The upload and large-body contracts on the in-memory fakes, on lowdb's
 * files (real files in a temporary DATA_DIR) and on PostgreSQL, and what
 * each store alone can show: files owner-only and nothing left of a failed
 * write; on PostgreSQL rows of 1 MiB, an upload made through one pool
 * (a replica) claimed and read through another, and damage found.
 */
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLargeBodyFiles } from '../../src/adapters/lowdb/large-body-files.ts'
import { openUploadFiles } from '../../src/adapters/lowdb/upload-files.ts'
import { postgresLargeBodyStore } from '../../src/adapters/postgres/large-body-store.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { postgresUploadStore } from '../../src/adapters/postgres/upload-store.ts'
import { manualTime } from '../fakes/clock.ts'
import { memoryLargeBodies, memoryUploadStore } from '../fakes/uploads.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { largeBodyStoreContract } from './large-body-store.contract.ts'
import { bytesOf, chunked, newUploadId, readAll, uploadStoreContract } from './upload-store.contract.ts'

describe('the in-memory upload stores', () => {
  describe('uploads', () => {
    uploadStoreContract(async () => {
      const time = manualTime()
      return { store: memoryUploadStore(time), passTime: async (ms) => time.set(time.now() + ms) }
    })
  })
  describe('large bodies', () => {
    largeBodyStoreContract(async () => memoryLargeBodies(manualTime()))
  })
})

describe('the upload stores on lowdb files', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'uploads-'))
  })
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  describe('uploads', () => {
    uploadStoreContract(async () => {
      const time = manualTime()
      const folder = await mkdtemp(join(dataDir, 'u-'))
      return {
        store: await openUploadFiles({ dataDir: folder, clock: time }),
        passTime: async (ms) => time.set(time.now() + ms),
      }
    })
  })
  describe('large bodies', () => {
    largeBodyStoreContract(async () =>
      openLargeBodyFiles({ dataDir: await mkdtemp(join(dataDir, 'b-')), clock: manualTime() }),
    )
  })

  it('writes owner-only files, and leaves nothing of a failed upload', async () => {
    const folder = await mkdtemp(join(dataDir, 'perm-'))
    const store = await openUploadFiles({ dataDir: folder, clock: manualTime() })
    const { uploadId } = await store.put({
      uploadId: newUploadId(),
      apiKeyId: 'k',
      chunks: chunked(bytesOf(1000)),
      ttlMs: 60_000,
    })
    const names = await readdir(join(folder, 'uploads'))
    expect(names.sort()).toEqual([`${uploadId}.bin`, `${uploadId}.json`])
    for (const name of names) expect((await stat(join(folder, 'uploads', name))).mode & 0o777).toBe(0o600)
    expect((await stat(join(folder, 'uploads'))).mode & 0o777).toBe(0o700)
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield bytesOf(300_000)
      throw new Error('gone')
    }
    await expect(
      store.put({ uploadId: newUploadId(), apiKeyId: 'k', chunks: broken(), ttlMs: 60_000 }),
    ).rejects.toThrow('gone')
    expect((await readdir(join(folder, 'uploads'))).sort()).toEqual(names.sort())
  })

  it('finds an upload file changed on disk, and gives none of its last chunk', async () => {
    const folder = await mkdtemp(join(dataDir, 'damage-'))
    const store = await openUploadFiles({ dataDir: folder, clock: manualTime() })
    const bytes = bytesOf(600_000)
    const { uploadId } = await store.put({
      uploadId: newUploadId(),
      apiKeyId: 'k',
      chunks: chunked(bytes),
      ttlMs: 60_000,
    })
    const changed = bytes.slice()
    changed[599_999]! ^= 1
    await writeFile(join(folder, 'uploads', `${uploadId}.bin`), changed)
    let passed = 0
    const reading = (async () => {
      for await (const chunk of store.read(uploadId)) passed += chunk.byteLength
    })()
    await expect(reading).rejects.toMatchObject({ code: 'STORAGE' })
    expect(passed).toBeLessThan(bytes.byteLength)
  })

  it('drops, when opened again, what a stop left half written', async () => {
    const folder = await mkdtemp(join(dataDir, 'restart-'))
    const uploads = join(folder, 'uploads')
    await openUploadFiles({ dataDir: folder, clock: manualTime() })
    await writeFile(join(uploads, 'up_halfwritten_0001.bin.1234.tmp'), 'partial')
    await writeFile(join(uploads, 'up_halfwritten_0002.bin'), 'bytes without facts')
    const store = await openUploadFiles({ dataDir: folder, clock: manualTime() })
    expect(await store.expire()).toBe(0)
    expect(await readdir(uploads)).toEqual([])
  })
})

describePostgres('the upload stores on PostgreSQL', () => {
  const db = useTestDatabase()
  let replicaB: pg.Pool
  beforeAll(async () => {
    await migrate(db.pool)
    replicaB = new pg.Pool({ connectionString: db.url, max: 2 })
    replicaB.on('error', () => {})
  })
  afterAll(async () => {
    await replicaB?.end()
  })

  describe('uploads', () => {
    uploadStoreContract(async () => ({
      store: postgresUploadStore(db.pool),
      passTime: async (ms) => {
        await db.pool.query(
          `UPDATE uploads SET expires_at = expires_at - $1::float8 * interval '1 millisecond',
                              created_at = created_at - $1::float8 * interval '1 millisecond'`,
          [ms],
        )
      },
    }))
  })
  describe('large bodies', () => {
    largeBodyStoreContract(async () => postgresLargeBodyStore(db.pool))
  })

  it('claims and reads through one replica an upload made through another, in rows of 1 MiB', async () => {
    const bytes = bytesOf(2_500_000, 9)
    const { uploadId } = await postgresUploadStore(db.pool).put({
      uploadId: newUploadId(),
      apiKeyId: 'k',
      chunks: chunked(bytes),
      ttlMs: 60_000,
    })
    const { rows } = await db.pool.query<{ length: number }>(
      'SELECT length(data) AS length FROM upload_chunks WHERE upload_id = $1 ORDER BY seq',
      [uploadId],
    )
    expect(rows.map((row) => row.length)).toEqual([1_048_576, 1_048_576, 2_500_000 - 2 * 1_048_576])
    const other = postgresUploadStore(replicaB)
    expect(await other.claim({ uploadId, apiKeyId: 'k', messageId: 'm-b' })).toMatchObject({
      size: 2_500_000,
    })
    // Neither replica can claim it again.
    expect(
      await postgresUploadStore(db.pool).claim({ uploadId, apiKeyId: 'k', messageId: 'm-a' }),
    ).toBeUndefined()
    expect(Buffer.compare(await readAll(other.read(uploadId)), bytes)).toBe(0)
  })

  it('finds a changed chunk row and gives none of the last chunk', async () => {
    const bytes = bytesOf(2_200_000, 4)
    const store = postgresUploadStore(db.pool)
    const { uploadId } = await store.put({
      uploadId: newUploadId(),
      apiKeyId: 'k',
      chunks: chunked(bytes),
      ttlMs: 60_000,
    })
    await db.pool.query(
      `UPDATE upload_chunks SET data = overlay(data placing '\\x00'::bytea from 1) WHERE upload_id = $1 AND seq = 1`,
      [uploadId],
    )
    let passed = 0
    const reading = (async () => {
      for await (const chunk of store.read(uploadId)) passed += chunk.byteLength
    })()
    await expect(reading).rejects.toMatchObject({ code: 'STORAGE' })
    expect(passed).toBeLessThan(bytes.byteLength)
  })

  it('keeps no rows of a failed upload or body', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield bytesOf(1_500_000)
      throw new Error('gone')
    }
    const uploadId = newUploadId()
    await expect(
      postgresUploadStore(db.pool).put({ uploadId, apiKeyId: 'k', chunks: broken(), ttlMs: 60_000 }),
    ).rejects.toThrow('gone')
    await expect(postgresLargeBodyStore(db.pool).write('m-broken', broken())).rejects.toThrow('gone')
    const { rows } = await db.pool.query<{ count: number }>(
      `SELECT (SELECT count(*) FROM upload_chunks WHERE upload_id = $1)
            + (SELECT count(*) FROM message_body_chunks WHERE message_id = 'm-broken')
            + (SELECT count(*) FROM large_bodies WHERE message_id = 'm-broken')
            + (SELECT count(*) FROM uploads WHERE id = $1) AS count`,
      [uploadId],
    )
    expect(Number(rows[0]!.count)).toBe(0)
  })
})
