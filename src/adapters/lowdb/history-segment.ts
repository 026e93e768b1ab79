/**
 * History segments: `history/<yyyy-mm-dd>.jsonl`, one JSON line per finished
 * version (`{"seq":…,"id":…,…,"entry":{…}}`), by the UTC day the message finished
 * (its `updatedAt`). A day's file is appended to, never edited in place;
 * retention deletes or rewrites whole files.
 */
import { appendFile, chmod, open } from 'node:fs/promises'
import { join } from 'node:path'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { ensurePrivateDir, fsyncDirectory, PRIVATE_FILE_MODE, syncHandle } from './fs-durable.ts'
import type { HistoryHead, StoredVersion } from './outbox-schema.ts'

const DAY_MS = 86_400_000
const SEGMENT_NAME = /^(\d{4})-(\d{2})-(\d{2})\.jsonl$/

export const HISTORY_FOLDER = 'history'

/** The segment a finished version goes to. */
export function segmentNameFor(updatedAt: number): string {
  return `${new Date(updatedAt).toISOString().slice(0, 10)}.jsonl`
}

/** Epoch ms of the start and end of a segment's day; `undefined` for a name that is not a segment. */
export function segmentDay(name: string): { start: number; end: number } | undefined {
  const match = SEGMENT_NAME.exec(name)
  if (match === null) return undefined
  const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
  return { start, end: start + DAY_MS }
}

/**
 * One history line, newline included: the head (`seq` and the indexed
 * fields), then the whole entry under `entry`, which comes last so that a
 * reader can cut the line at `,"entry":` and parse the head alone.
 * `JSON.stringify` escapes every quote inside strings, so that marker cannot
 * occur earlier in the line.
 */
export function historyLine(version: StoredVersion): string {
  const { entry } = version
  const head: HistoryHead = {
    seq: version.seq,
    id: entry.id,
    account: entry.account,
    status: entry.status,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  }
  if (entry.sentAt !== undefined) head.sentAt = entry.sentAt
  if (entry.idempotencyKey !== undefined) head.idempotencyKey = entry.idempotencyKey
  if (entry.apiKeyId !== undefined) head.apiKeyId = entry.apiKeyId
  return `${JSON.stringify({ ...head, entry })}\n`
}

/** Where the head of a history line ends (see `historyLine`). */
export const ENTRY_MARKER = ',"entry":'

/**
 * Appends finished entries to the history of `dataDir` directly, with `seq`
 * counting up from `firstSeq`: for seeding a large history (benchmarks,
 * migrations) without going through the store one message at a time.
 * Open the store afterwards; it indexes what it finds.
 */
export async function writeHistorySegment(options: {
  dataDir: string
  entries: readonly OutboxEntry[]
  firstSeq?: number
}): Promise<void> {
  const folder = join(options.dataDir, HISTORY_FOLDER)
  await ensurePrivateDir(options.dataDir)
  await ensurePrivateDir(folder)
  const lines = new Map<string, string[]>()
  let seq = options.firstSeq ?? 1
  for (const entry of options.entries) {
    const segment = segmentNameFor(entry.updatedAt)
    let segmentLines = lines.get(segment)
    if (segmentLines === undefined) {
      segmentLines = []
      lines.set(segment, segmentLines)
    }
    segmentLines.push(historyLine({ seq, entry }))
    seq += 1
  }
  for (const [segment, segmentLines] of lines) {
    const path = join(folder, segment)
    await appendFile(path, segmentLines.join(''), { mode: PRIVATE_FILE_MODE })
    await chmod(path, PRIVATE_FILE_MODE)
    const handle = await open(path, 'r+')
    try {
      await syncHandle(handle)
    } finally {
      await handle.close()
    }
  }
  await fsyncDirectory(folder)
}
