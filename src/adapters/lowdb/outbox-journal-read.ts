/**
 * Reading the outbox journal on open (`outbox-journal.ts` writes it): every
 * journal file of `DATA_DIR`, oldest first, each line a record checked
 * against its shape, with where each inline body sits. Only the
 * unterminated end of a file can be a torn append (a crash in the middle of
 * a write, which was never acknowledged): it is dropped, the file cut back
 * to its last whole line so that the next open does not meet it again, and
 * the drop is reported by file, line and, when the cut came after it, the
 * id of its first message. Any other line that does not parse stops the
 * start with a sentence naming the file and the line.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ServiceError } from '../../domain/errors.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { idOfTornRecord, isNotFound, type SyncCounter, truncateDurably } from './fs-durable.ts'
import {
  type BodyPlace,
  bodyPlacesOf,
  type JournalRecord,
  journalFileName,
  journalGeneration,
  journalRecordSchema,
  RECORD_ID,
} from './outbox-journal-format.ts'

/** A version found in the journal, with its inline body's place. */
export interface JournalVersion {
  seq: number
  entry: OutboxEntry
  body?: BodyPlace
}

/** A torn last record dropped: its file, its line number, and its first message's id if readable. */
export interface DroppedRecord {
  file: string
  line: number
  id?: string
}

export interface JournalOnDisk {
  /** Generations of the journal files present, ascending. */
  generations: number[]
  /** Every version, in the order written. */
  versions: JournalVersion[]
  /** The highest `seq` seen (0: none). */
  maxSeq: number
  dropped: DroppedRecord[]
}

/** Reads every journal file of `dataDir`, repairing a torn end (see the file's comment). */
export async function readJournal(dataDir: string, counter?: SyncCounter): Promise<JournalOnDisk> {
  const generations = (await readdir(dataDir))
    .map(journalGeneration)
    .filter((gen): gen is number => gen !== undefined)
    .sort((a, b) => a - b)
  const onDisk: JournalOnDisk = { generations, versions: [], maxSeq: 0, dropped: [] }
  for (const gen of generations) await readFileOf(dataDir, gen, onDisk, counter)
  return onDisk
}

async function readFileOf(
  dataDir: string,
  gen: number,
  onDisk: JournalOnDisk,
  counter: SyncCounter | undefined,
): Promise<void> {
  const name = journalFileName(gen)
  const path = join(dataDir, name)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (cause) {
    if (isNotFound(cause)) return
    throw new ServiceError('STORAGE', `The store file ${name} could not be read`, { cause })
  }
  const decoder = new TextDecoder()
  let start = 0
  for (let line = 1; start < bytes.length; line += 1) {
    const end = bytes.indexOf(0x0a, start)
    if (end === -1) {
      // Unterminated: a torn append, never acknowledged.
      const id = idOfTornRecord(
        decoder.decode(bytes.subarray(start, Math.min(bytes.length, start + 4096))),
        RECORD_ID,
      )
      onDisk.dropped.push(id === undefined ? { file: name, line } : { file: name, line, id })
      await truncateDurably(path, start, counter)
      return
    }
    const record = parseRecord(decoder.decode(bytes.subarray(start, end)))
    const places = record === undefined ? undefined : bodyPlacesOf(record, end - start)
    if (record === undefined || places === undefined) {
      throw new ServiceError('STORAGE', `The store file ${name} is damaged at line ${line}`)
    }
    record.puts.forEach((put, index) => {
      const place = places[index]
      const version: JournalVersion = { seq: put.seq, entry: put.entry }
      if (place !== undefined) version.body = { gen, offset: start + place.start, length: place.length }
      onDisk.versions.push(version)
      if (put.seq > onDisk.maxSeq) onDisk.maxSeq = put.seq
    })
    start = end + 1
  }
}

function parseRecord(line: string): JournalRecord | undefined {
  try {
    const parsed = journalRecordSchema.safeParse(JSON.parse(line))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
