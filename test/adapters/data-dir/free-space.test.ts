import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createFreeSpaceMeter } from '../../../src/adapters/data-dir/free-space.ts'

describe('the free-space meter of DATA_DIR', () => {
  it('reads the bytes free to the service (statfs bavail)', async () => {
    const stats = await statfs(tmpdir())
    const free = await createFreeSpaceMeter(tmpdir()).freeBytes()
    expect(free).toBeGreaterThan(0)
    // Other processes write meanwhile: the same order of magnitude is enough.
    expect(Math.abs(free! - stats.bavail * stats.bsize)).toBeLessThan(stats.bavail * stats.bsize * 0.1 + 1e8)
  })

  it('keeps a reading for its maximum age, and measures again once told to forget it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'free-space-'))
    try {
      let now = 0
      const meter = createFreeSpaceMeter(dir, { maxAgeMs: 250, now: () => now })
      const first = await meter.freeBytes()
      // 8 MiB less free space, written through to the disk.
      await writeFile(join(dir, 'ballast'), new Uint8Array(8 * 1_048_576), { flush: true })
      now = 100
      expect(await meter.freeBytes()).toBe(first)
      meter.forget()
      expect(await meter.freeBytes()).not.toBe(first)
      now = 400
      expect(await meter.freeBytes()).not.toBe(first)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('answers undefined for a folder it cannot measure', async () => {
    expect(
      await createFreeSpaceMeter(join(tmpdir(), 'no-such-folder-for-statfs')).freeBytes(),
    ).toBeUndefined()
  })
})
