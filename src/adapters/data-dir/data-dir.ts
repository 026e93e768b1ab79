/**
 * The data folder itself: created owner-only, probed for writability, and
 * the small secret files that sandbox mode generates there.
 */
import { chmod, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** Creates DATA_DIR owner-only, and removes temp files a crash left mid-write (one process owns the folder). */
export async function ensureDataDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  for (const name of await readdir(dir)) {
    if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true })
  }
}

/** Whether a file can be written and synced in the folder now. */
export async function probeWritable(dir: string): Promise<boolean> {
  const path = join(dir, '.ready-probe')
  try {
    const handle = await open(path, 'w', 0o600)
    try {
      await handle.writeFile('ok')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rm(path, { force: true })
    return true
  } catch {
    return false
  }
}

/** Writes a small file atomically (temp, fsync, rename), owner-only. */
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
}

export async function readOptionalFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined
    throw error
  }
}
