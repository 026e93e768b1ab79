/**
 * File-system steps that make a write survive a power cut: fsync the data,
 * rename over the target, fsync the folder that holds the name.
 * (POSIX fsync(2) and rename(2); the folder sync is what makes a rename or a
 * new file name itself durable.)
 *
 * Every flush to disk the lowdb stores ask for (fsync, fdatasync, a write
 * through O_DSYNC) goes through `syncHandle` or `writeSynced` here, which
 * count it on the store's `SyncCounter`: what a benchmark or a test reads
 * as the store's flushes is exactly what the disk was asked to make durable.
 */
import { chmod, type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ServiceError, storageFull } from '../../domain/errors.ts'

/** Owner-only permissions, set explicitly rather than trusting the umask. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** How many flushes to disk a store asked for (see the file's comment). */
export class SyncCounter {
  #count = 0

  get count(): number {
    return this.#count
  }

  /** Called by this file's flushing functions only. */
  add(): void {
    this.#count += 1
  }
}

/** The counter of writers that nobody counts for. */
const UNCOUNTED = new SyncCounter()

/** fsync(2) (`data`: fdatasync(2), the data and the size but not the times), counted. */
export async function syncHandle(handle: FileHandle, counter = UNCOUNTED, data = false): Promise<void> {
  counter.add()
  if (data) await handle.datasync()
  else await handle.sync()
}

/**
 * Writes all of `bytes` at the handle's position (the end, for a file opened
 * with O_APPEND); for a handle opened with O_DSYNC each write(2) is itself a
 * flush and is counted as one (`synced`).
 */
export async function writeSynced(
  handle: FileHandle,
  bytes: Uint8Array,
  synced: boolean,
  counter = UNCOUNTED,
): Promise<void> {
  for (let offset = 0; offset < bytes.length; ) {
    if (synced) counter.add()
    offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten
  }
}

/** Creates a folder (and its parents) if missing and makes it owner-only. */
/** Cuts `path` back to `length` bytes (a torn last record) and syncs it before resolving. */
export async function truncateDurably(path: string, length: number, counter = UNCOUNTED): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.truncate(length)
    await syncHandle(handle, counter)
  } finally {
    await handle.close()
  }
}

/**
 * The quoted id at the end of `prefix` (a pattern anchored at the start of a
 * record, ending with the id's JSON string as its first group) in the
 * fragment a torn write left, if the cut came after it.
 */
export function idOfTornRecord(fragment: string, prefix: RegExp): string | undefined {
  const match = prefix.exec(fragment)
  if (match === null) return undefined
  try {
    const id: unknown = JSON.parse(match[1]!)
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}

export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE })
  await chmod(path, PRIVATE_DIR_MODE)
}

/**
 * Flushes a folder's entries (new names, renames, removals) to disk.
 * Platforms that cannot open a folder for syncing (Windows) skip it.
 */
export async function fsyncDirectory(path: string, counter = UNCOUNTED): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    await syncHandle(handle, counter)
  } catch (error) {
    if (!isUnsupportedDirectorySync(error)) throw error
  } finally {
    await handle?.close()
  }
}

/** A temporary name beside `path`, so that the final rename stays on one file system. */
export function temporaryPathFor(path: string): string {
  return `${path}.${crypto.randomUUID()}.tmp`
}

/**
 * Writes `bytes` to `path` atomically and durably except for the folder sync,
 * which callers batch: temp file (0600) → fsync → rename.
 */
export async function writeFileReplacing(
  path: string,
  bytes: Uint8Array | string,
  counter = UNCOUNTED,
): Promise<void> {
  const temporary = temporaryPathFor(path)
  try {
    const handle = await open(temporary, 'w', PRIVATE_FILE_MODE)
    try {
      await chmod(temporary, PRIVATE_FILE_MODE)
      await handle.writeFile(bytes)
      await syncHandle(handle, counter)
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await removeFile(temporary)
    throw error
  }
}

/** `writeFileReplacing` followed by the folder sync. */
export async function writeFileDurably(
  path: string,
  bytes: Uint8Array | string,
  counter = UNCOUNTED,
): Promise<void> {
  await writeFileReplacing(path, bytes, counter)
  await fsyncDirectory(dirname(path), counter)
}

/** Removes a file; a file already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true })
}

/** Whether a write failed for want of space: the disk (ENOSPC) or the user's quota (EDQUOT) is full. */
export function isNoSpace(error: unknown): boolean {
  const code = errorCode(error)
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/** The error of a failed write: `STORAGE_FULL` when space ran out, else `STORAGE` saying `message`. */
export function writeFailure(message: string, cause: unknown): ServiceError {
  if (isNoSpace(cause)) return storageFull(cause)
  return new ServiceError('STORAGE', message, { cause, retryable: true })
}

export function isNotFound(error: unknown): boolean {
  return errorCode(error) === 'ENOENT'
}

function isUnsupportedDirectorySync(error: unknown): boolean {
  const code = errorCode(error)
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'EBADF' || code === 'EACCES'
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined
  return typeof error.code === 'string' ? error.code : undefined
}
