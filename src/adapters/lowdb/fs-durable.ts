/**
 * File-system steps that make a write survive a power cut: fsync the data,
 * rename over the target, fsync the folder that holds the name.
 * (POSIX fsync(2) and rename(2); the folder sync is what makes a rename or a
 * new file name itself durable.)
 */
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ServiceError, storageFull } from '../../domain/errors.ts'

/** Owner-only permissions, set explicitly rather than trusting the umask. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** Creates a folder (and its parents) if missing and makes it owner-only. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE })
  await chmod(path, PRIVATE_DIR_MODE)
}

/**
 * Flushes a folder's entries (new names, renames, removals) to disk.
 * Platforms that cannot open a folder for syncing (Windows) skip it.
 */
export async function fsyncDirectory(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(path, 'r')
    await handle.sync()
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
export async function writeFileReplacing(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = temporaryPathFor(path)
  try {
    const handle = await open(temporary, 'w', PRIVATE_FILE_MODE)
    try {
      await chmod(temporary, PRIVATE_FILE_MODE)
      await handle.writeFile(bytes)
      await handle.sync()
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
export async function writeFileDurably(path: string, bytes: Uint8Array | string): Promise<void> {
  await writeFileReplacing(path, bytes)
  await fsyncDirectory(dirname(path))
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
