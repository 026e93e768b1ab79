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
import { join } from 'node:path'
import { AppendFiles } from './append-files.ts'
import { writeFailure, writeFileDurably } from './fs-durable.ts'
import { GroupCommit } from './group-commit.ts'
import { type BookChange, logFileName } from './webhook-files.ts'
import type { LogOnDisk } from './webhook-log-read.ts'

/** The log grows to this at least before it is compacted. */
const MIN_LOG_BYTES = 1 << 20

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
  readonly #files: AppendFiles
  readonly #commits: GroupCommit<Queued>
  #seq: number
  /** Bytes in the log files since the last snapshot. */
  #logBytes = 0
  #snapshotBytes: number
  #compacting: Promise<void> | undefined
  #compactWanted = false
  /** Why the last snapshot failed, until one succeeds. */
  #failed: unknown

  constructor(options: WebhookLogOptions) {
    this.#options = options
    this.#files = new AppendFiles({
      folder: options.dataDir,
      nameOf: logFileName,
      generations: options.onDisk.generations,
    })
    this.#commits = new GroupCommit<Queued>({
      commit: (batch) => this.#appendQueued(batch),
      // Snapshots one at a time, once the queue is empty: a snapshot never covers a file an append is writing to.
      between: (queued) => {
        if (queued > 0 || !this.#compactWanted) return
        this.#compactWanted = false
        this.#startCompaction()
      },
    })
    this.#seq = options.onDisk.seq
    this.#snapshotBytes = options.snapshotBytes
  }

  /**
   * Appends `changes` as one record; once it is durable runs `apply` (in the
   * order of the records, before any later record is applied) and resolves
   * with its result. Rejects, applying nothing, when the append failed.
   * `lingering`: nobody waits for it now (a settle, a publication after the
   * change, a note taken ahead), so it may wait a few milliseconds for others
   * to share its write; any other append takes it along at once.
   */
  append<T>(
    changes: readonly BookChange[],
    apply: () => T,
    options: { lingering?: boolean } = {},
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#commits.push({ changes, apply, resolve: resolve as (value: unknown) => void, reject }, options)
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
    if (this.#files.generations.length === 0) return
    this.#compactWanted = true
    this.#commits.kick()
    await this.#idle()
    if (this.#failed !== undefined) throw this.#failed
  }

  async #idle(): Promise<void> {
    await this.#commits.flushed()
    while (this.#compacting !== undefined) {
      await this.#compacting
      await this.#commits.flushed()
    }
  }

  async #appendQueued(batch: Queued[]): Promise<void> {
    let text = ''
    for (const queued of batch) text += `${JSON.stringify({ seq: ++this.#seq, changes: queued.changes })}\n`
    const bytes = Buffer.from(text, 'utf8')
    const name = logFileName(this.#files.current)
    try {
      await this.#files.append(bytes)
    } catch (cause) {
      const error = writeFailure(`The store file ${name} could not be written`, cause)
      for (const queued of batch) queued.reject(error)
      return
    }
    this.#logBytes += bytes.length
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

  /** Between two appends: every record up to #seq is applied, none after, and no write is under way. */
  #startCompaction(): void {
    if (this.#compacting !== undefined) return
    const { dataDir, snapshotName } = this.#options
    const text = JSON.stringify(this.#options.snapshot(this.#seq))
    const sealing = this.#files.seal()
    const covered = [...this.#files.generations]
    const coveredBytes = this.#logBytes
    this.#logBytes = 0
    this.#compacting = (async () => {
      await sealing
      await writeFileDurably(join(dataDir, snapshotName), text)
      this.#snapshotBytes = text.length
      this.#failed = undefined
      await this.#files.remove(covered)
    })()
      .catch((error: unknown) => {
        // The files stay until a later snapshot: their records are still the truth.
        this.#logBytes += coveredBytes
        this.#failed = error
      })
      .finally(() => {
        this.#compacting = undefined
      })
  }
}
