/**
 * The outbox journal's files and records (`outbox-journal.ts` writes them,
 * `outbox-journal-read.ts` reads them on open).
 *
 * `DATA_DIR/outbox.<gen>.log`: one record a line, each the changes of one
 * call, all or nothing (an acceptance of several messages is one line):
 *
 *     {"puts":[{"seq":12,"entry":{…},"body":3524},{"seq":13,"entry":{…}}],"bodies":"<base64>"}
 *
 * Each put is a new version of a message (`seq` grows with every change, as
 * in the snapshot and the history: the highest one of an id is its state).
 * A put with `body` (the body's size in bytes) carries the body inline: the
 * bodies of a record are base64, one after the other, in `bodies`, which
 * comes last, so that each body's bytes in the file are known from the
 * line's end without searching (base64 holds no quote). Bodies above the
 * inline limit are files of `messages/` instead, written before the record.
 */
import { Buffer } from 'node:buffer'
import { z } from 'zod'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { outboxEntrySchema } from './outbox-schema.ts'

const JOURNAL_FILE = /^outbox\.(\d+)\.log$/

/** The name of the journal file of generation `gen`. */
export const journalFileName = (gen: number) => `outbox.${gen}.log`

/** The generation of a journal file's name; undefined for any other name. */
export function journalGeneration(name: string): number | undefined {
  const match = JOURNAL_FILE.exec(name)
  return match === null ? undefined : Number(match[1])
}

/** Where an inline body's base64 text sits: a byte range of one journal file, and the body's size. */
export interface BodyPlace {
  gen: number
  offset: number
  length: number
}

/** A version to write, with its body when it goes inline. */
export interface PutToWrite {
  seq: number
  entry: OutboxEntry
  raw?: Uint8Array
}

const journalPutSchema = z.object({
  seq: z.number().int().positive(),
  entry: outboxEntrySchema,
  body: z.number().int().nonnegative().exactOptional(),
})

export const journalRecordSchema = z.object({
  puts: z.array(journalPutSchema).min(1),
  bodies: z.string().exactOptional(),
})

export type JournalRecord = z.infer<typeof journalRecordSchema>

const BODIES_KEY = ',"bodies":"'
/** What follows the bodies' text at the end of a line: its closing quote and brace. */
const LINE_END = '"}'

/** The length of the base64 text of `size` bytes. */
export const base64Length = (size: number) => 4 * Math.ceil(size / 3)

/**
 * One record's line (newline included) and, for each put, where its body's
 * text starts in the line and how long it is (undefined: no inline body).
 */
export function encodeRecord(puts: readonly PutToWrite[]): {
  bytes: Buffer
  bodies: Array<{ start: number; length: number } | undefined>
} {
  const metas = puts.map((put) =>
    put.raw === undefined
      ? { seq: put.seq, entry: put.entry }
      : { seq: put.seq, entry: put.entry, body: put.raw.byteLength },
  )
  const head = JSON.stringify({ puts: metas })
  const inline = puts.filter((put) => put.raw !== undefined)
  if (inline.length === 0)
    return { bytes: Buffer.from(`${head}\n`, 'utf8'), bodies: puts.map(() => undefined) }
  const texts = inline.map((put) => Buffer.from(put.raw!.buffer, put.raw!.byteOffset, put.raw!.byteLength))
  const opening = Buffer.from(`${head.slice(0, -1)}${BODIES_KEY}`, 'utf8')
  const encoded = texts.map((raw) => Buffer.from(raw.toString('base64'), 'latin1'))
  const bytes = Buffer.concat([opening, ...encoded, Buffer.from(`${LINE_END}\n`, 'latin1')])
  let start = opening.length
  const bodies = puts.map((put) => {
    if (put.raw === undefined) return undefined
    const length = base64Length(put.raw.byteLength)
    const place = { start, length }
    start += length
    return place
  })
  return { bytes, bodies }
}

/**
 * Where the inline bodies of a parsed record sit, relative to its line's
 * first byte (`lineBytes`: the line's length without its newline); undefined
 * when the line's bodies do not add up to the sizes its puts declare.
 */
export function bodyPlacesOf(
  record: JournalRecord,
  lineBytes: number,
): Array<{ start: number; length: number } | undefined> | undefined {
  const declared = record.puts.reduce(
    (sum, put) => sum + (put.body === undefined ? 0 : base64Length(put.body)),
    0,
  )
  if ((record.bodies?.length ?? 0) !== declared) return undefined
  let start = lineBytes - LINE_END.length - declared
  return record.puts.map((put) => {
    if (put.body === undefined) return undefined
    const length = base64Length(put.body)
    const place = { start, length }
    start += length
    return place
  })
}

/** The bytes of a body from its base64 text as read from the file. */
export function decodeBody(text: Uint8Array): Uint8Array {
  return new Uint8Array(Buffer.from(Buffer.from(text).toString('latin1'), 'base64'))
}

/** A journal record up to its first message's id (`{"puts":[{"seq":…,"entry":{"id":"…"`). */
export const RECORD_ID = /^\{"puts":\[\{"seq":\d+,"entry":\{"id":("(?:[^"\\]|\\.)*")/
