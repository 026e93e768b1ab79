/** Shared helpers of the lowdb adapter tests: real temp folders, entries, a settable clock. */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'

const created: string[] = []

/** A fresh folder under the OS temp dir, removed after the test. */
export async function makeTempDir(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'gmail-send-lowdb-'))
  created.push(folder)
  return folder
}

afterEach(async () => {
  await Promise.all(created.splice(0).map((folder) => removeFolder(folder)))
})

/** The store tidies up sent bodies in the background; a removal racing it is tried again. */
async function removeFolder(folder: string): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      return await rm(folder, { recursive: true, force: true })
    } catch (error) {
      if (tries >= 5) throw error
      await new Promise((resolve) => setTimeout(resolve, 20 * tries))
    }
  }
}

export const T0 = Date.UTC(2026, 4, 10, 12, 0, 0)
export const HOUR = 3_600_000
export const DAY = 24 * HOUR

export function makeClock(start = T0): { now(): number; set(time: number): void; advance(ms: number): void } {
  let time = start
  return {
    now: () => time,
    set: (next) => {
      time = next
    },
    advance: (ms) => {
      time += ms
    },
  }
}

export function makeEntry(id: string, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id,
    account: 'ann@example.com',
    from: 'Ann <ann@example.com>',
    to: ['bob@example.com'],
    cc: [],
    bcc: [],
    subject: `Message ${id}`,
    status: 'queued',
    createdAt: T0,
    attempts: 0,
    attemptLog: [],
    size: 100,
    messageId: `<${id}@example.com>`,
    updatedAt: T0,
    ...overrides,
  }
}

export function rawOf(id: string): Uint8Array {
  return new TextEncoder().encode(`Subject: ${id}\r\n\r\nBody of ${id}\r\n`)
}

/** Permission bits of a path (e.g. 0o600). */
export async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777
}

/** Every file under `folder`, recursively, as paths. */
export async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
}

/**
 * A file's text, or undefined for the temporary file of an atomic write that
 * a running store renamed after it was listed (its text is then in the file
 * it replaced).
 */
export async function readUnlessRenamed(
  path: string,
  encoding: 'utf8' | 'latin1' = 'utf8',
): Promise<string | undefined> {
  try {
    return await readFile(path, encoding)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && path.endsWith('.tmp')) return undefined
    throw error
  }
}

/** The text of every file under `folder`, joined (see `readUnlessRenamed`). */
export async function textUnder(folder: string, encoding: 'utf8' | 'latin1' = 'utf8'): Promise<string> {
  const texts = await Promise.all((await filesUnder(folder)).map((path) => readUnlessRenamed(path, encoding)))
  return texts.filter((text) => text !== undefined).join('\n')
}
