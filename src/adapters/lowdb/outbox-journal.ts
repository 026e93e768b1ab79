/**
 * The outbox journal (files and records: `outbox-journal-format.ts`): every
 * acceptance and every change of a message is one record appended to it,
 * and the calls made while one append is on its way to disk share the next
 * one (`group-commit.ts`: one write through O_DSYNC for all of them). That
 * one flush is what an acceptance, a `sending` mark or an outcome waits for,
 * whatever else arrives meanwhile, instead of a body file, an envelope and a
 * rewrite of `outbox.json` each with their own fsyncs.
 *
 * A record's `seq` numbers are handed out as it is written, in the order of
 * the records; `apply` runs once the record is durable, in that order too,
 * before any later record is written, so that at a quiet point (between two
 * batches, where `outbox-compaction.ts` seals a file) every record up to
 * `seq` is applied and none after.
 */
import { Buffer } from 'node:buffer'
import { open } from 'node:fs/promises'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { AppendFiles } from './append-files.ts'
import { type SyncCounter, writeFailure } from './fs-durable.ts'
import { GroupCommit } from './group-commit.ts'
import {
  type BodyPlace,
  decodeBody,
  encodeRecord,
  journalFileName,
  type PutToWrite,
} from './outbox-journal-format.ts'

/** A version to store, with its body when that goes inline. */
export interface JournalPut {
  entry: OutboxEntry
  raw?: Uint8Array
}

/** Where a put landed: its version number, and its body's place when it went inline. */
export interface Placed {
  seq: number
  body?: BodyPlace
}

interface Queued {
  puts: readonly JournalPut[]
  apply: (placed: Placed[]) => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

export interface OutboxJournalOptions {
  dataDir: string
  /** Journal files on disk, ascending. */
  generations: readonly number[]
  /** The highest `seq` handed out so far (snapshot, history and journal). */
  seq: number
  counter: SyncCounter
  /** Runs at each quiet point: no write under way, every record so far applied. */
  between(): void
}

export class OutboxJournal {
  readonly #files: AppendFiles
  readonly #commits: GroupCommit<Queued>
  #seq: number
  #bytesSinceSeal = 0

  constructor(options: OutboxJournalOptions) {
    this.#files = new AppendFiles({
      folder: options.dataDir,
      nameOf: journalFileName,
      generations: options.generations,
      counter: options.counter,
    })
    this.#commits = new GroupCommit<Queued>({
      commit: (batch) => this.#commit(batch),
      between: () => options.between(),
    })
    this.#seq = options.seq
  }

  /** The highest `seq` handed out; at a quiet point, every record up to it is applied. */
  get seq(): number {
    return this.#seq
  }

  /** Bytes appended since the last seal. */
  get bytesSinceSeal(): number {
    return this.#bytesSinceSeal
  }

  /** Journal files on disk, ascending (the one being appended to included). */
  get generations(): readonly number[] {
    return this.#files.generations
  }

  /**
   * Appends `puts` as one record (all or nothing); once it is durable runs
   * `apply` with their places and resolves with its result. Rejects, applying
   * nothing, when the append failed.
   */
  append<T>(puts: readonly JournalPut[], apply: (placed: Placed[]) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#commits.push({ puts, apply, resolve: resolve as (value: unknown) => void, reject })
    })
  }

  /** Asks for a quiet point soon, even with nothing to write. */
  kick(): void {
    this.#commits.kick()
  }

  /** Resolves once every record queued so far is written (or refused). */
  flushed(): Promise<void> {
    return this.#commits.flushed()
  }

  /** At a quiet point only: later records go to a new file. Returns the generation sealed, if one was open. */
  seal(): Promise<number | undefined> {
    this.#bytesSinceSeal = 0
    return this.#files.seal()
  }

  /** Deletes these journal files (never the one being appended to). */
  remove(gens: readonly number[]): Promise<void> {
    return this.#files.remove(gens)
  }

  /** An inline body's bytes, as its base64 text in the journal decodes (checked by the caller). */
  readBody(place: BodyPlace): Promise<Uint8Array> {
    return readInlineBody(this.#files.pathOf(place.gen), place)
  }

  async close(): Promise<void> {
    await this.flushed()
    await this.#files.close()
  }

  async #commit(batch: Queued[]): Promise<void> {
    const encoded = batch.map((queued) => {
      const puts: PutToWrite[] = queued.puts.map((put) => ({ ...put, seq: ++this.#seq }))
      return { puts, ...encodeRecord(puts) }
    })
    const bytes = Buffer.concat(encoded.map((record) => record.bytes))
    const name = journalFileName(this.#files.current)
    let at: { gen: number; offset: number }
    try {
      at = await this.#files.append(bytes)
    } catch (cause) {
      const error = writeFailure(`The store file ${name} could not be written`, cause)
      for (const queued of batch) queued.reject(error)
      return
    }
    this.#bytesSinceSeal += bytes.length
    let offset = at.offset
    batch.forEach((queued, index) => {
      const record = encoded[index]!
      const placed = record.puts.map((put, position): Placed => {
        const body = record.bodies[position]
        return body === undefined
          ? { seq: put.seq }
          : { seq: put.seq, body: { gen: at.gen, offset: offset + body.start, length: body.length } }
      })
      offset += record.bytes.length
      try {
        queued.resolve(queued.apply(placed))
      } catch (error) {
        queued.reject(error)
      }
    })
  }
}

/** The body at `place` of the journal file at `path` (what is there: a short read decodes short). */
export async function readInlineBody(path: string, place: BodyPlace): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const text = new Uint8Array(place.length)
    const { bytesRead } = await handle.read(text, 0, place.length, place.offset)
    return decodeBody(text.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
}
