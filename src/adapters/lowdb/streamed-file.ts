/**
 * Files written from a stream and read back as one, in constant memory:
 * for uploads and the large bodies composed from them, tens of MiB each.
 * A write goes to a temporary name (0600), is fsynced, renamed into place
 * and the folder fsynced, so that a name that exists holds every byte; its
 * size and SHA-256 are counted as it passes. Reads hand out fresh chunks,
 * so that a consumer may keep one while it reads the next.
 */
import { createHash } from 'node:crypto'
import { chmod, link, open, readdir, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ServiceError } from '../../domain/errors.ts'
import type { IncrementalDigest } from '../../domain/uploads/chunks.ts'
import {
  fsyncDirectory,
  isNotFound,
  PRIVATE_FILE_MODE,
  removeFile,
  temporaryPathFor,
  writeFailure,
} from './fs-durable.ts'

/** Bytes per read. */
const READ_CHUNK_BYTES = 256 * 1024

/** SHA-256 fed chunk by chunk. */
export function sha256Digest(): IncrementalDigest {
  const hash = createHash('sha256')
  return {
    update: (bytes) => void hash.update(bytes),
    hex: () => hash.digest('hex'),
  }
}

/**
 * Writes `chunks` to `path`, which must not exist yet (CONFLICT), durably:
 * temp file, fsync, a hard link to the name (which fails on an existing
 * one), the folder fsynced. An error of `chunks` is rethrown as it is, a
 * file-system error as STORAGE or STORAGE_FULL; either way nothing is left.
 * `temporaries` holds the temporary name while the write is under way.
 */
export async function writeStreamedFile(
  path: string,
  chunks: AsyncIterable<Uint8Array>,
  temporaries: Set<string>,
): Promise<{ size: number; sha256: string }> {
  const temporary = temporaryPathFor(path)
  temporaries.add(temporary)
  const digest = sha256Digest()
  let size = 0
  try {
    const handle = await open(temporary, 'wx', PRIVATE_FILE_MODE).catch((cause: unknown) => {
      throw writeFailure('The file could not be created', cause)
    })
    try {
      await chmod(temporary, PRIVATE_FILE_MODE)
      for await (const chunk of chunks) {
        digest.update(chunk)
        size += chunk.byteLength
        await writeAll(handle, chunk)
      }
      await handle.sync().catch((cause: unknown) => {
        throw writeFailure('The file could not be written', cause)
      })
    } finally {
      await handle.close()
    }
    await link(temporary, path).catch((cause: unknown) => {
      if ((cause as { code?: unknown }).code === 'EEXIST')
        throw new ServiceError('CONFLICT', 'A file of this name exists already')
      throw writeFailure('The file could not be stored', cause)
    })
    await removeFile(temporary)
    await fsyncDirectory(dirname(path)).catch((cause: unknown) => {
      throw writeFailure('The file could not be stored', cause)
    })
    return { size, sha256: digest.hex() }
  } catch (error) {
    await removeFile(temporary)
    throw error
  } finally {
    temporaries.delete(temporary)
  }
}

async function writeAll(handle: Awaited<ReturnType<typeof open>>, chunk: Uint8Array): Promise<void> {
  let written = 0
  while (written < chunk.byteLength) {
    const { bytesWritten } = await handle
      .write(chunk, written, chunk.byteLength - written, null)
      .catch((cause: unknown) => {
        throw writeFailure('The file could not be written', cause)
      })
    written += bytesWritten
  }
}

/** The bytes of `path` in fresh chunks; NOT_FOUND when it is missing. */
export async function* readFileChunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r').catch((cause: unknown) => {
    if (isNotFound(cause)) throw new ServiceError('NOT_FOUND', 'The stored file is gone')
    throw new ServiceError('STORAGE', 'The stored file could not be read', { cause })
  })
  try {
    for (;;) {
      const buffer = new Uint8Array(READ_CHUNK_BYTES)
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null).catch((cause: unknown) => {
        throw new ServiceError('STORAGE', 'The stored file could not be read', { cause })
      })
      if (bytesRead === 0) return
      yield bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead)
    }
  } finally {
    await handle.close()
  }
}

/** The size and modification time of `path`, or undefined when it is missing. */
export async function fileFacts(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const facts = await stat(path)
    return { size: facts.size, mtimeMs: facts.mtimeMs }
  } catch (cause) {
    if (isNotFound(cause)) return undefined
    throw new ServiceError('STORAGE', 'The stored file could not be read', { cause })
  }
}

/** Removes the temporary files a stopped process left in `folder` (none is being written at open). */
export async function removeLeftTemporaries(folder: string): Promise<void> {
  for (const name of await readdir(folder)) {
    if (name.endsWith('.tmp')) await removeFile(join(folder, name))
  }
}
