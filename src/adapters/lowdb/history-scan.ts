/**
 * Reads every history segment on open to index it: for each id, the line
 * with the highest `seq`. Only the head of each line is parsed (see
 * `historyLine`). A last line cut short by a crash mid-append (never
 * acknowledged, since its fsync did not return) is dropped and the file
 * truncated to its last whole line, so that later appends start clean.
 * A bad line anywhere else is refused: the store does not guess.
 */
import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ServiceError } from '../../domain/errors.ts'
import { removeFile } from './fs-durable.ts'
import { ENTRY_MARKER, segmentDay } from './history-segment.ts'
import type { HistoryLocation } from './outbox-index.ts'
import { type HistoryHead, historyHeadSchema } from './outbox-schema.ts'

export interface ScannedVersion {
  head: HistoryHead
  location: HistoryLocation
}

export interface HistoryScan {
  /** The newest version of each id found in the history. */
  versions: Map<string, ScannedVersion>
  /** Every segment file, oldest day first. */
  segments: string[]
  maxSeq: number
}

/** Indexes the history folder; `onNotice` hears of repairs (segment names only, nothing from inside). */
export async function scanHistory(folder: string, onNotice: (message: string) => void): Promise<HistoryScan> {
  const names = await readdir(folder)
  for (const name of names) if (name.endsWith('.tmp')) await removeFile(join(folder, name))
  const segments = names.filter((name) => segmentDay(name) !== undefined).sort()
  const versions = new Map<string, ScannedVersion>()
  let maxSeq = 0
  const decoder = new TextDecoder()
  for (const segment of segments) {
    const path = join(folder, segment)
    let bytes: Uint8Array = await readFile(path)
    const complete = bytes.lastIndexOf(0x0a) + 1
    if (complete < bytes.length) {
      await truncateFile(path, complete)
      onNotice(`Dropped an incomplete last line of history segment ${segment} (interrupted write)`)
      bytes = bytes.subarray(0, complete)
    }
    // One decode and split per file; byte offsets come from the newlines of
    // the bytes, since a character offset differs from it after non-ASCII text.
    const lines = decoder.decode(bytes).split('\n')
    lines.pop()
    let start = 0
    lines.forEach((line, index) => {
      const end = bytes.indexOf(0x0a, start)
      const head = parseHead(line, segment, index + 1)
      const known = versions.get(head.id)
      if (known === undefined || known.head.seq <= head.seq) {
        versions.set(head.id, { head, location: { segment, offset: start, length: end - start } })
      }
      if (head.seq > maxSeq) maxSeq = head.seq
      start = end + 1
    })
  }
  return { versions, segments, maxSeq }
}

function parseHead(line: string, segment: string, lineNumber: number): HistoryHead {
  const cut = line.indexOf(ENTRY_MARKER)
  let value: unknown
  try {
    value = JSON.parse(cut === -1 ? line : `${line.slice(0, cut)}}`)
  } catch {
    value = undefined
  }
  const parsed = historyHeadSchema.safeParse(value)
  if (!parsed.success) {
    throw new ServiceError('STORAGE', `The history file ${segment} has a corrupt line ${lineNumber}`)
  }
  return parsed.data
}

async function truncateFile(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.truncate(length)
    await handle.sync()
  } finally {
    await handle.close()
  }
}
