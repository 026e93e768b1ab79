/**
 * Free space of the file system that holds DATA_DIR, by statfs(2)
 * (`node:fs/promises` `statfs`, on Node and Deno 2 alike). A reading is
 * kept for `maxAgeMs`, so that the send path asks the kernel at most a few
 * times a second; concurrent callers share one measurement.
 */
import { statfs } from 'node:fs/promises'
import type { FreeSpacePort } from '../../domain/ports.ts'

/** How long a reading is reused. */
export const FREE_SPACE_MAX_AGE_MS = 250

export function createFreeSpaceMeter(
  dir: string,
  options: { maxAgeMs?: number; now?: () => number } = {},
): FreeSpacePort {
  const maxAgeMs = options.maxAgeMs ?? FREE_SPACE_MAX_AGE_MS
  const now = options.now ?? (() => performance.now())
  let reading: { at: number; bytes: number | undefined } | undefined
  let measuring: Promise<number | undefined> | undefined
  let generation = 0

  const measure = (): Promise<number | undefined> => {
    const started = generation
    const at = now()
    const promise = statfs(dir)
      .then(
        // `bavail` counts blocks free to unprivileged users, in units of the fragment size.
        (stats) => stats.bavail * ((stats as { frsize?: number }).frsize ?? stats.bsize),
        () => undefined,
      )
      .then((bytes) => {
        if (generation === started) {
          reading = { at, bytes }
          measuring = undefined
        }
        return bytes
      })
    measuring = promise
    return promise
  }

  return {
    freeBytes() {
      if (reading !== undefined && now() - reading.at < maxAgeMs) return Promise.resolve(reading.bytes)
      return measuring ?? measure()
    },
    forget() {
      generation += 1
      reading = undefined
      measuring = undefined
    },
  }
}
