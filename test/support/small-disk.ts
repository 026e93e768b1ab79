/**
 * A small real disk for storage tests: a tmpfs of a few MiB mounted by the
 * test (root only: CI runs as root), with ballast files to fill it up to a
 * given free space or to the last byte, and to free it again.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, open, rm, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface SmallDisk {
  /** The mount point. */
  dir: string
  /** A new empty folder on the disk, for one service's DATA_DIR. */
  folder(name: string): Promise<string>
  /** Bytes free to the service, as the service measures them. */
  freeBytes(): Promise<number>
  /** Writes ballast until at most `bytes` are free. */
  fillUntilFree(bytes: number): Promise<void>
  /** Writes ballast until the disk refuses a single byte more (ENOSPC). */
  fillCompletely(): Promise<void>
  /** Removes all ballast. */
  removeBallast(): Promise<void>
  unmount(): Promise<void>
}

/**
 * Why no small disk can be mounted here (not root, no mount permission), or
 * undefined when it can: a probe mounts and unmounts a tiny tmpfs at once, so
 * that a test file can decide to skip when collected without leaving a mount.
 */
export async function smallDiskUnavailable(): Promise<string | undefined> {
  const disk = await mountSmallDisk(64 * 1024)
  if (typeof disk === 'string') return disk
  await disk.unmount()
  return undefined
}

/**
 * Mounts a tmpfs of `bytes`, or answers why it cannot (not root, no mount
 * permission), so that the caller can skip with that one line.
 */
export async function mountSmallDisk(bytes: number): Promise<SmallDisk | string> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    return 'not running as root on Linux, so no tmpfs can be mounted'
  }
  const base = await mkdtemp(join(tmpdir(), 'small-disk-'))
  const dir = join(base, 'mnt')
  await mkdir(dir)
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir])
  } catch (error) {
    await rm(base, { recursive: true, force: true })
    return `mount -t tmpfs failed (${(error as Error).message.split('\n')[0]})`
  }
  let ballastCount = 0
  const ballast = () => join(dir, `ballast-${++ballastCount}`)
  const freeBytes = async () => {
    const stats = await statfs(dir)
    return stats.bavail * stats.bsize
  }
  /** Appends `chunk`-sized writes to a new ballast file until `done` or ENOSPC; true on ENOSPC. */
  const append = async (chunk: number, done: () => Promise<boolean>): Promise<boolean> => {
    const handle = await open(ballast(), 'w')
    try {
      const bytes = new Uint8Array(chunk).fill(0x61)
      while (!(await done())) {
        try {
          await handle.write(bytes)
        } catch (error) {
          if ((error as { code?: string }).code === 'ENOSPC') return true
          throw error
        }
      }
      return false
    } finally {
      await handle.close()
    }
  }
  return {
    dir,
    async folder(name) {
      const path = join(dir, name)
      await mkdir(path, { recursive: true })
      return path
    },
    freeBytes,
    async fillUntilFree(target) {
      await append(64 * 1024, async () => (await freeBytes()) <= target)
    },
    async fillCompletely() {
      for (const chunk of [1_048_576, 65_536, 4_096, 1]) await append(chunk, async () => false)
    },
    async removeBallast() {
      for (let index = 1; index <= ballastCount; index++)
        await rm(join(dir, `ballast-${index}`), { force: true })
    },
    async unmount() {
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]))
      await rm(base, { recursive: true, force: true })
    },
  }
}
