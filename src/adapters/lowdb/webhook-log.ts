/**
 * The append-only log of the lowdb webhook store's deliveries file: each
 * call's changes are one JSON line, and the calls made while one append is
 * on its way to disk share the next one (group commit: one durable write
 * for all; those nobody waits for wait a few milliseconds for company). A
 * note, a settle or a publication costs a few hundred bytes on disk, not a
 * rewrite of every event, delivery and attempt kept.
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
import { constants } from 'node:fs'
import { chmod, type FileHandle, open, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import {
  fsyncDirectory,
  PRIVATE_FILE_MODE,
  removeFile,
  writeFailure,
  writeFileDurably,
} from './fs-durable.ts'
import { type BookChange, logFileName } from './webhook-files.ts'
import type { LogOnDisk } from './webhook-log-read.ts'

/** The log grows to this at least before it is compacted. */
const MIN_LOG_BYTES = 1 << 20

/**
 * Appends durable once written (O_DSYNC: the data and the size, as
 * fdatasync), where the platform has it: one system call and one wake-up
 * of the event loop per append instead of two. Elsewhere, a fdatasync
 * follows each write.
 */
const SYNC_WRITES: number | undefined = constants.O_DSYNC
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (SYNC_WRITES ?? 0)

/** How long an append nobody waits for waits for company: a write shared by several. */
const LINGER_MS = 3

export interface WebhookLogOptions {
  dataDir: string
  snapshotName: string
  /** What `readLog` found. */
  onDisk: Pick<LogOnDisk, 'generations' | 'seq'>
  /** The snapshot's size in bytes now (0: none). */
  snapshotBytes: number
  /** The log outgrows this (and twice the snapshot) before it is compacted; default MIN_LOG_BYTES. */
  compactAfterBytes?: number
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
  #lingering: ReturnType<typeof setTimeout> | undefined
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
   * `lingering`: nobody waits for it now (a settle, a publication after the
   * change, a note taken ahead), so it may wait LINGER_MS for others to
   * share its write; any other append takes it along at once.
   */
  append<T>(
    changes: readonly BookChange[],
    apply: () => T,
    options: { lingering?: boolean } = {},
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ changes, apply, resolve: resolve as (value: unknown) => void, reject })
      if (options.lingering) this.#linger()
      else this.#kick()
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
    if (this.#queue.length > 0) this.#kick()
    while (this.#draining !== undefined || this.#compacting !== undefined) {
      await this.#draining
      await this.#compacting
    }
  }

  #linger(): void {
    if (this.#draining !== undefined || this.#lingering !== undefined) return
    this.#lingering = setTimeout(() => this.#kick(), LINGER_MS)
  }

  #kick(): void {
    clearTimeout(this.#lingering)
    this.#lingering = undefined
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
    const floor = this.#options.compactAfterBytes ?? MIN_LOG_BYTES
    if (this.#logBytes >= Math.max(floor, 2 * this.#snapshotBytes)) this.#compactWanted = true
  }

  async #write(text: string): Promise<void> {
    const { dataDir } = this.#options
    const name = logFileName(this.#gen)
    let step: 'open' | 'write' | 'sync' = 'open'
    try {
      if (this.#handle === undefined) {
        const path = join(dataDir, name)
        this.#handle = await open(path, APPEND_FLAGS, PRIVATE_FILE_MODE)
        this.#fileBytes = 0
        this.#generations.push(this.#gen)
        await chmod(path, PRIVATE_FILE_MODE)
        // The new file's name itself must survive a power cut.
        await fsyncDirectory(dataDir)
      }
      const bytes = Buffer.from(text, 'utf8')
      // A write through O_DSYNC is its own sync: what it leaves after a failure may be on disk already.
      step = SYNC_WRITES === undefined ? 'write' : 'sync'
      for (let offset = 0; offset < bytes.length; ) {
        offset += (await this.#handle.write(bytes, offset, bytes.length - offset)).bytesWritten
      }
      step = 'sync'
      if (SYNC_WRITES === undefined) await this.#handle.datasync()
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
