import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/app/logger.ts'
import { createStorageGuard } from '../../src/app/storage-guard.ts'
import type { FreeSpacePort } from '../../src/domain/ports.ts'

const MiB = 1_048_576

function fakeSpace(initial: number | undefined) {
  let free = initial
  let forgotten = 0
  const space: FreeSpacePort = {
    freeBytes: async () => free,
    forget: () => {
      forgotten++
    },
  }
  return {
    space,
    set: (bytes: number | undefined) => {
      free = bytes
    },
    forgotten: () => forgotten,
  }
}

describe('the free-space margin (MIN_FREE_BYTES)', () => {
  it('is ok at or above the margin, low below it, critical below a quarter of it', async () => {
    const disk = fakeSpace(64 * MiB)
    const guard = createStorageGuard({ space: disk.space, minFreeBytes: 64 * MiB, logger: silentLogger })
    expect(await guard.check()).toBe('ok')
    disk.set(64 * MiB - 1)
    expect(await guard.check()).toBe('low')
    disk.set(16 * MiB - 1)
    expect(await guard.check()).toBe('critical')
    expect(guard.level()).toBe('critical')
  })

  it('refuses new mail below the margin with STORAGE_FULL and a Retry-After, and says why it is not ready', async () => {
    const disk = fakeSpace(10 * MiB)
    const guard = createStorageGuard({ space: disk.space, minFreeBytes: 32 * MiB, logger: silentLogger })
    await expect(guard.assertRoomForNewMail()).rejects.toMatchObject({
      code: 'STORAGE_FULL',
      message: "The service's storage is full; nothing was stored; retry later",
      retryAfterMs: expect.any(Number),
    })
    expect(await guard.problem()).toBe(
      'Storage is nearly full: free space in DATA_DIR (10.0 MiB free) is below MIN_FREE_BYTES (32.0 MiB); new mail is refused',
    )
    disk.set(40 * MiB)
    await guard.assertRoomForNewMail()
    expect(await guard.problem()).toBeUndefined()
  })

  it('is off with a margin of 0, and counts space it cannot measure as enough', async () => {
    const off = createStorageGuard({ space: fakeSpace(0).space, minFreeBytes: 0, logger: silentLogger })
    expect(await off.check()).toBe('ok')
    await off.assertRoomForNewMail()
    const unknown = createStorageGuard({
      space: fakeSpace(undefined).space,
      minFreeBytes: MiB,
      logger: silentLogger,
    })
    expect(await unknown.check()).toBe('ok')
  })

  it('measures again after a failed write', () => {
    const disk = fakeSpace(MiB)
    const guard = createStorageGuard({ space: disk.space, minFreeBytes: MiB, logger: silentLogger })
    guard.writeFailed()
    expect(disk.forgotten()).toBe(1)
  })
})
