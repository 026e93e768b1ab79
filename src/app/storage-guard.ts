/**
 * The free-space margin of DATA_DIR (`MIN_FREE_BYTES`), so that a disk
 * filling up refuses new mail before it can stop delivery from recording
 * what it sent:
 *
 * - `ok`: at or above the margin.
 * - `low`: below the margin: new mail is refused (STORAGE_FULL); delivery
 *   goes on, writing its outcomes into the reserve.
 * - `critical`: below a quarter of the margin: no new send starts either, so
 *   that the sends in flight still have room to record their outcomes.
 *
 * A margin of 0 turns the guard off. Space that cannot be measured counts as
 * enough (said once in the log).
 */
import { storageFull } from '../domain/errors.ts'
import type { FreeSpacePort } from '../domain/ports.ts'
import type { Logger } from './logger.ts'

export type StorageLevel = 'ok' | 'low' | 'critical'

export interface StorageGuard {
  /** The level of the latest reading, at once; starts a new reading (cheap: the port caches). */
  level(): StorageLevel
  /** The level from a reading at most the port's cache age old. */
  check(): Promise<StorageLevel>
  /** Throws STORAGE_FULL (nothing stored) when free space is below the margin. */
  assertRoomForNewMail(): Promise<void>
  /** A write failed: the next reading measures again. */
  writeFailed(): void
  /** Why the service is not ready for want of space, or undefined when there is room. */
  problem(): Promise<string | undefined>
}

export interface StorageGuardOptions {
  space: FreeSpacePort
  /** The margin in bytes; 0 turns the guard off. */
  minFreeBytes: number
  logger: Logger
}

/** The share of the margin under which no new send starts. */
const CRITICAL_SHARE = 0.25

export function createStorageGuard(options: StorageGuardOptions): StorageGuard {
  const { space, minFreeBytes, logger } = options
  let latest: { level: StorageLevel; free?: number } = { level: 'ok' }
  let reading: Promise<StorageLevel> | undefined
  let unmeasurableSaid = false

  const levelOf = (free: number | undefined): StorageLevel => {
    if (free === undefined) {
      if (!unmeasurableSaid) {
        unmeasurableSaid = true
        logger.warn('The free space of DATA_DIR cannot be measured; MIN_FREE_BYTES is not enforced')
      }
      return 'ok'
    }
    if (free < minFreeBytes * CRITICAL_SHARE) return 'critical'
    return free < minFreeBytes ? 'low' : 'ok'
  }

  const check = async (): Promise<StorageLevel> => {
    if (minFreeBytes <= 0) return 'ok'
    const free = await space.freeBytes()
    const level = levelOf(free)
    if (level !== latest.level) {
      const fields = { level, freeBytes: free, minFreeBytes }
      if (level === 'ok') logger.info('Free space is back above MIN_FREE_BYTES', fields)
      else logger.warn('Free space is below MIN_FREE_BYTES', fields)
    }
    latest = free === undefined ? { level } : { level, free }
    return level
  }

  return {
    level() {
      if (minFreeBytes > 0 && reading === undefined) {
        reading = check().finally(() => {
          reading = undefined
        })
        reading.catch(() => {})
      }
      return latest.level
    },
    check,
    async assertRoomForNewMail() {
      if ((await check()) !== 'ok') throw storageFull()
    },
    writeFailed() {
      space.forget()
    },
    async problem() {
      const level = await check()
      if (level === 'ok') return undefined
      const free = latest.free === undefined ? '' : ` (${mebibytes(latest.free)} free)`
      const what = level === 'critical' ? 'new mail is refused and no new send starts' : 'new mail is refused'
      return `Storage is nearly full: free space in DATA_DIR${free} is below MIN_FREE_BYTES (${mebibytes(minFreeBytes)}); ${what}`
    },
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`
}
