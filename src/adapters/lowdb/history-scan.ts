/**
 * Reads every history segment on open to index it: for each id, the line
 * with the highest `seq`. Only the head of each line is parsed (see
 * `historyLine`). A last line cut short by a crash mid-append (never
 * acknowledged, since its fsync did not return) is dropped and the file
 * truncated to its last whole line, so that later appends start clean;
 * the scan says where it was and, when its head got that far, whose it was.
 * A bad line anywhere else is refused: the store does not guess.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ServiceError } from '../../domain/errors.ts'
import { idOfTornRecord, removeFile, type SyncCounter, truncateDurably } from './fs-durable.ts'
import { ENTRY_MARKER, segmentDay } from './history-segment.ts'
import type { HistoryLocation } from './outbox-index.ts'
import { type HistoryHead, historyHeadSchema } from './outbox-schema.ts'

export interface ScannedVersion {
  head: HistoryHead
  location: HistoryLocation
}

/** A last line cut short and dropped: its segment, its line number, and its id if readable. */
export interface DroppedLine {
  segment: string
  line: number
  id?: string
}

export interface HistoryScan {
  /** The newest version of each id found in the history. */
  versions: Map<string, ScannedVersion>
  /** Every segment file, oldest day first. */
  segments: string[]
  maxSeq: number
  /** Repairs made: incomplete last lines dropped, interrupted rewrites (`.tmp`) removed. */
  dropped: DroppedLine[]
  temporariesRemoved: number
}

/** Indexes the history folder, repairing what a crash can leave (see the file's comment). */
export async function scanHistory(folder: string, counter?: SyncCounter): Promise<HistoryScan> {
  const names = await readdir(folder)
  let temporariesRemoved = 0
  for (const name of names) {
    if (!name.endsWith('.tmp')) continue
    await removeFile(join(folder, name))
    temporariesRemoved += 1
  }
  const dropped: DroppedLine[] = []
  const segments = names.filter((name) => segmentDay(name) !== undefined).sort()
  const versions = new Map<string, ScannedVersion>()
  let maxSeq = 0
  const decoder = new TextDecoder()
  for (const segment of segments) {
    const path = join(folder, segment)
    let bytes: Uint8Array = await readFile(path)
    const complete = bytes.lastIndexOf(0x0a) + 1
    if (complete < bytes.length) {
      const line = countNewlines(bytes, complete) + 1
      const id = idOfTornRecord(decoder.decode(bytes.subarray(complete)), LINE_ID)
      await truncateDurably(path, complete, counter)
      dropped.push(id === undefined ? { segment, line } : { segment, line, id })
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
  return { versions, segments, maxSeq, dropped, temporariesRemoved }
}

function countNewlines(bytes: Uint8Array, end: number): number {
  let count = 0
  for (let index = bytes.indexOf(0x0a); index !== -1 && index < end; index = bytes.indexOf(0x0a, index + 1)) {
    count += 1
  }
  return count
}

/** A history line up to its id (`{"seq":…,"id":"…"`). */
const LINE_ID = /^\{"seq":\d+,"id":("(?:[^"\\]|\\.)*")/

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
