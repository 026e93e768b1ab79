/**
 * The append-only log of the lowdb webhook store's deliveries file: each
 * call's changes are one JSON line, and the calls made while one append is
 * on its way to disk share the next one (group commit: one write, one
 * fdatasync for all). A note, a settle or a publication costs a few hundred
 * bytes on disk, not a rewrite of every event, delivery and attempt kept.
 *
 * The snapshot (`webhook-deliveries.json`) holds the state up to a record's
 * `seq`; the log files (`webhook-deliveries.<n>.log`) what came after. Once
 * the log outgrows twice the snapshot (and 1 MiB), the state is pruned and
 * snapshotted between two appends, and appends go on into a new file while
 * the snapshot is written; the older files are deleted only once it is
 * durable. A crash at any step leaves a snapshot and the files after it;
 * records the snapshot holds already are skipped on open. Files stay
 * bounded: the log by the compaction, the snapshot by the retention.
 *
 * A failed append rejects every call of it and changes nothing in memory;
 * what it may have left at the end of the file is cut off, or, when that
 * cannot be done, the next append starts a new file (a torn last line is
 * ignored on open: it was never acknowledged).
 */
import { chmod, type FileHandle, open, readdir, readFile, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { ServiceError } from '../../domain/errors.ts'
import {
  fsyncDirectory,
  isNotFound,
  PRIVATE_FILE_MODE,
  removeFile,
  writeFailure,
  writeFileDurably,
} from './fs-durable.ts'
import { type BookChange, type LogRecord, logFileName, logGeneration, logRecordSchema } from './webhook-files.ts'

/** The log grows to this at least before it is compacted. */
const MIN_LOG_BYTES = 1 << 20

export interface LogOnDisk {
  /** Generations of the log files present, ascending. */
  generations: number[]
  /** Their records after `afterSeq`, in order. */
  records: LogRecord[]
  /** The highest `seq` seen (the snapshot's, or a record's). */
  seq: number
}

/** Reads the log files of `dataDir`: the records after the snapshot's `afterSeq`. */
export async function readLog(dataDir: string, afterSeq: number): Promise<LogOnDisk> {
  const generations = (await readdir(dataDir))
    .map(logGeneration)
    .filter((gen): gen is number => gen !== undefined)
    .sort((a, b) => a - b)
  const records: LogRecord[] = []
  let seq = afterSeq
  for (const gen of generations) {
    for (const record of await readRecords(join(dataDir, logFileName(gen)), logFileName(gen))) {
      seq = Math.max(seq, record.seq)
      if (record.seq > afterSeq) records.push(record)
    }
  }
  records.sort((a, b) => a.seq - b.seq)
  return { generations, records, seq }
}

async function readRecords(path: string, name: string): Promise<LogRecord[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if (isNotFound(cause)) return []
    throw new ServiceError('STORAGE', `The store file ${name} could not be read`, { cause })
  }
  const lines = text.split('\n')
  const records: LogRecord[] = []
  for (const [index, line] of lines.entries()) {
    const last = index === lines.length - 1
    if (line === '' && last) continue
    const record = parseRecord(line)
    if (record !== undefined) records.push(record)
    // Only the unterminated end of a file can be a torn append.
    else if (!last) {
      throw new ServiceError('STORAGE', `The store file ${name} is damaged at line ${index + 1}`)
    }
  }
  return records
}

function parseRecord(line: string): LogRecord | undefined {
  try {
    const parsed = logRecordSchema.safeParse(JSON.parse(line))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

export interface WebhookLogOptions {
  dataDir: string
  snapshotName: string
  /** What `readLog` found. */
  onDisk: Pick<LogOnDisk, 'generations' | 'seq'>
  /** The snapshot's size in bytes now (0: none). */
  snapshotBytes: number
  /**
   * The state to snapshot as of record `seq` (pruned first), called between
   * two appends: every record up to `seq` applied, none after.
   */
  snapshot(seq: number): unknown
}

interface Queued {
  changes: readonly BookChange[]
  apply: () => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

export class WebhookLog {
  readonly #options: WebhookLogOptions
  readonly #queue: Queued[] = []
  /** Log files not yet covered by a durable snapshot. */
  readonly #generations: number[]
  #gen: number
  #seq: number
  #handle: FileHandle | undefined
  /** Bytes acknowledged in the current file (where a failed append is cut back to). */
  #fileBytes = 0
  /** Bytes in the log files since the last snapshot. */
  #logBytes = 0
  #snapshotBytes: number
  #draining: Promise<void> | undefined
  #compacting: Promise<void> | undefined
  #compactWanted = false
  /** Why the last snapshot failed, until one succeeds. */
  #failed: unknown

  constructor(options: WebhookLogOptions) {
    this.#options = options
    this.#generations = [...options.onDisk.generations]
    this.#gen = (options.onDisk.generations.at(-1) ?? 0) + 1
    this.#seq = options.onDisk.seq
    this.#snapshotBytes = options.snapshotBytes
  }

  /**
   * Appends `changes` as one record; once it is durable runs `apply` (in the
   * order of the records, before any later record is applied) and resolves
   * with its result. Rejects, applying nothing, when the append failed.
   */
  append<T>(changes: readonly BookChange[], apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ changes, apply, resolve: resolve as (value: unknown) => void, reject })
      this.#kick()
    })
  }

  /**
   * Snapshots once the appends under way are done, when the log holds
   * anything, and waits for it: on open (files bounded across restarts) and
   * on close (a clean stop leaves the snapshot alone). Rejects when the
   * snapshot could not be written; the log files then stay, still the truth.
   */
  async compact(): Promise<void> {
    await this.#idle()
    if (this.#generations.length === 0 && this.#handle === undefined) return
    this.#compactWanted = true
    this.#kick()
    await this.#idle()
    if (this.#failed !== undefined) throw this.#failed
  }

  async #idle(): Promise<void> {
    while (this.#draining !== undefined || this.#compacting !== undefined) {
      await this.#draining
      await this.#compacting
    }
  }

  #kick(): void {
    this.#draining ??= this.#drain()
  }

  /** Appends and snapshots one at a time: a snapshot never covers a file an append is writing to. */
  async #drain(): Promise<void> {
    try {
      // Let calls made in the same tick join the first append.
      await Promise.resolve()
      for (;;) {
        if (this.#queue.length > 0) await this.#appendQueued()
        else if (this.#compactWanted) {
          this.#compactWanted = false
          this.#startCompaction()
        } else break
      }
    } finally {
      // In the same step as the last look at the queue: a call queued after it starts a new drain.
      this.#draining = undefined
    }
  }

  async #appendQueued(): Promise<void> {
    const batch = this.#queue.splice(0)
    let text = ''
    for (const queued of batch) text += `${JSON.stringify({ seq: ++this.#seq, changes: queued.changes })}\n`
    try {
      await this.#write(text)
    } catch (error) {
      for (const queued of batch) queued.reject(error)
      return
    }
    for (const queued of batch) {
      try {
        queued.resolve(queued.apply())
      } catch (error) {
        queued.reject(error)
      }
    }
    if (this.#logBytes >= Math.max(MIN_LOG_BYTES, 2 * this.#snapshotBytes)) this.#compactWanted = true
  }

  async #write(text: string): Promise<void> {
    const { dataDir } = this.#options
    const name = logFileName(this.#gen)
    let step: 'open' | 'write' | 'sync' = 'open'
    try {
      if (this.#handle === undefined) {
        const path = join(dataDir, name)
        this.#handle = await open(path, 'a', PRIVATE_FILE_MODE)
        this.#fileBytes = 0
        this.#generations.push(this.#gen)
        await chmod(path, PRIVATE_FILE_MODE)
        // The new file's name itself must survive a power cut.
        await fsyncDirectory(dataDir)
      }
      const bytes = Buffer.from(text, 'utf8')
      step = 'write'
      await this.#handle.writeFile(bytes)
      step = 'sync'
      await this.#handle.datasync()
      this.#fileBytes += bytes.length
      this.#logBytes += bytes.length
    } catch (cause) {
      await this.#afterFailure(join(dataDir, name), step)
      throw writeFailure(`The store file ${name} could not be written`, cause)
    }
  }

  /**
   * Cuts a failed write off the file, which goes on; after a failed open or
   * sync (whose pages the kernel may have dropped), or when the cut fails,
   * the next append starts a new file.
   */
  async #afterFailure(path: string, step: 'open' | 'write' | 'sync'): Promise<void> {
    const cut =
      this.#handle !== undefined &&
      (await truncate(path, this.#fileBytes).then(
        () => true,
        () => false,
      ))
    if (cut && step === 'write') return
    const handle = this.#handle
    this.#handle = undefined
    this.#gen += 1
    await handle?.close().catch(() => {})
  }

  /** Between two appends: every record up to #seq is applied, none after, and no write is under way. */
  #startCompaction(): void {
    if (this.#compacting !== undefined) return
    const { dataDir, snapshotName } = this.#options
    const text = JSON.stringify(this.#options.snapshot(this.#seq))
    const covered = this.#generations.splice(0)
    const coveredBytes = this.#logBytes
    const handle = this.#handle
    this.#handle = undefined
    this.#gen += 1
    this.#logBytes = 0
    this.#compacting = (async () => {
      await handle?.close().catch(() => {})
      await writeFileDurably(join(dataDir, snapshotName), text)
      this.#snapshotBytes = text.length
      this.#failed = undefined
      for (const gen of covered) await removeFile(join(dataDir, logFileName(gen)))
      await fsyncDirectory(dataDir)
    })()
      .catch((error: unknown) => {
        // The files stay until a later snapshot: their records are still the truth.
        this.#generations.unshift(...covered.filter((gen) => !this.#generations.includes(gen)))
        this.#logBytes += coveredBytes
        this.#failed = error
      })
      .finally(() => {
        this.#compacting = undefined
      })
  }
}
