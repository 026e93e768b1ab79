import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Low } from 'lowdb'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DurableJsonFile } from '../../../src/adapters/lowdb/durable-file.ts'
import { ServiceError } from '../../../src/domain/errors.ts'
import { filesUnder, makeTempDir, modeOf } from './fixtures.ts'

const counterSchema = z.object({ count: z.number(), notes: z.array(z.string()) })
type Counter = z.infer<typeof counterSchema>

describe('DurableJsonFile', () => {
  it('reads back through lowdb what it wrote, and null for a missing file', async () => {
    const folder = await makeTempDir()
    const path = join(folder, 'counter.json')
    const adapter = new DurableJsonFile<Counter>(path, counterSchema)
    expect(await adapter.read()).toBeNull()

    const db = new Low<Counter>(adapter, { count: 0, notes: [] })
    await db.read()
    await db.update((data) => {
      data.count = 7
      data.notes.push('héllo')
    })

    const reopened = new Low<Counter>(new DurableJsonFile<Counter>(path, counterSchema), {
      count: 0,
      notes: [],
    })
    await reopened.read()
    expect(reopened.data).toEqual({ count: 7, notes: ['héllo'] })
  })

  it('coalesces 100 concurrent writes into far fewer flushes, resolving all with the last data on disk', async () => {
    const folder = await makeTempDir()
    const path = join(folder, 'counter.json')
    const adapter = new DurableJsonFile<Counter>(path, counterSchema)

    const writes = Array.from({ length: 100 }, (_, index) => adapter.write({ count: index + 1, notes: [] }))
    await Promise.all(writes)

    expect(adapter.flushCount).toBeLessThanOrEqual(5)
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ count: 100, notes: [] })
  })

  it('includes data changed after a write was issued in the flush that carries it', async () => {
    const folder = await makeTempDir()
    const path = join(folder, 'counter.json')
    const adapter = new DurableJsonFile<Counter>(path, counterSchema)
    const db = new Low<Counter>(adapter, { count: 0, notes: [] })

    const first = db.write()
    db.data.count = 1
    const second = db.write()
    db.data.count = 2
    const third = db.write()
    await Promise.all([first, second, third])

    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ count: 2, notes: [] })
  })

  it('refuses a corrupt file with a STORAGE error instead of an empty store', async () => {
    const folder = await makeTempDir()
    const path = join(folder, 'outbox.json')
    await writeFile(path, '{"count": 3, "notes": [')
    const adapter = new DurableJsonFile<Counter>(path, counterSchema)

    const error = await adapter.read().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ServiceError)
    expect(error).toMatchObject({ code: 'STORAGE', message: 'The store file outbox.json is not valid JSON' })
  })

  it('refuses valid JSON of the wrong shape', async () => {
    const folder = await makeTempDir()
    const path = join(folder, 'counter.json')
    await writeFile(path, '{"count": "three"}')

    await expect(new DurableJsonFile<Counter>(path, counterSchema).read()).rejects.toMatchObject({
      code: 'STORAGE',
      message: 'The store file counter.json does not have the expected shape',
    })
  })

  it('creates the file owner-only and leaves no temp file behind', async () => {
    const folder = await makeTempDir()
    const path = join(folder, 'counter.json')
    await new DurableJsonFile<Counter>(path, counterSchema).write({ count: 1, notes: [] })

    expect(await modeOf(path)).toBe(0o600)
    expect(await filesUnder(folder)).toEqual([path])
  })

  it('rejects every waiter of a failed flush with a STORAGE error', async () => {
    const folder = await makeTempDir()
    const adapter = new DurableJsonFile<Counter>(
      join(folder, 'missing-folder', 'counter.json'),
      counterSchema,
    )

    const results = await Promise.allSettled([
      adapter.write({ count: 1, notes: [] }),
      adapter.write({ count: 2, notes: [] }),
    ])
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'STORAGE', retryable: true } })
    }
  })
})
