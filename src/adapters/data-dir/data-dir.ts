/**
 * The data folder itself: created owner-only, probed for writability, and
 * the small secret files that sandbox mode generates there. A folder that
 * cannot be used stops the start with one sentence naming DATA_DIR and the
 * cause in words (not the raw OS error).
 */
import { access, chmod, constants, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describeDataDirProblem } from './data-dir-errors.ts'

/** Creates DATA_DIR owner-only, and removes temp files a crash left mid-write (one process owns the folder). */
export async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw await describeDataDirProblem(dir, await trueCause(dir, error), 'create')
  }
  try {
    await chmod(dir, 0o700)
    for (const name of await readdir(dir)) {
      if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true })
    }
    // A full disk does not stop the start: readiness reports it, and mail waits for space.
    await writeProbe(dir).catch((error: unknown) => {
      const code = (error as { code?: string }).code
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error
    })
  } catch (error) {
    throw await describeDataDirProblem(dir, error, 'use')
  }
}

/**
 * `mkdir -p` says ENOENT when the first missing folder cannot be made on a
 * read-only file system or without permission; ask the nearest folder that
 * exists what the real reason is.
 */
async function trueCause(dir: string, error: unknown): Promise<unknown> {
  if ((error as { code?: string }).code !== 'ENOENT') return error
  let parent = dirname(dir)
  while (parent !== dirname(parent)) {
    const found = await stat(parent).catch(() => undefined)
    if (found !== undefined) break
    parent = dirname(parent)
  }
  try {
    await access(parent, constants.W_OK | constants.X_OK)
  } catch (cause) {
    return cause
  }
  return error
}

/** Writes, syncs and removes a probe file; throws what the folder answered. */
async function writeProbe(dir: string): Promise<void> {
  const path = join(dir, '.ready-probe')
  const handle = await open(path, 'w', 0o600)
  try {
    await handle.writeFile('ok')
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rm(path, { force: true })
}

/** Whether a file can be written and synced in the folder now. */
export async function probeWritable(dir: string): Promise<boolean> {
  try {
    await writeProbe(dir)
    return true
  } catch {
    return false
  }
}

/** Writes a small file atomically and durably (temp, fsync, rename, fsync of the folder), owner-only. */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  const handle = await open(temporary, 'w', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await chmod(temporary, 0o600)
  await rename(temporary, path)
  await syncFolder(dirname(path))
}

/** Makes the rename itself survive a crash; platforms that cannot open a folder (Windows) skip it. */
async function syncFolder(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EINVAL') throw error
  } finally {
    await handle?.close()
  }
}

export async function readOptionalFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined
    throw error
  }
}
