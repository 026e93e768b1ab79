/**
 * Folds the outbox journal into the snapshot and the history, in the
 * background: appends never wait for it.
 *
 * Started at a quiet point of the journal (no write under way, every record
 * up to `seq` applied) once the journal has grown past the trigger since
 * the last one (`thresholdBytes`: 1 MiB at least, twice the snapshot, at
 * most 32 MiB, so that its cost per appended byte stays bounded); there,
 * in one synchronous step, it takes the snapshot's text (the unfinished
 * messages as of `seq`), the finished versions not in the history yet, and
 * seals the journal file (later records go to a new one). Then, one step
 * after the other, each durable before the next:
 *
 * 1. the finished versions are appended to the history (one fsync per day
 *    segment for all of them) and the index points there;
 * 2. the bodies still needed that sit inline in a journal file sealed at an
 *    earlier compaction (a message that outlived a whole round: scheduled,
 *    retried, held, failed) are written to `messages/` with their envelope,
 *    so that the journal files do not keep long-lived bodies forever; on
 *    close, all of them (a stopped store is the files of `messages/`,
 *    `outbox.json` and the history, nothing else);
 * 3. the snapshot `outbox.json` is written (temporary file, fsync, rename);
 * 4. the sealed journal files that hold no body still needed are deleted.
 *
 * A crash at any step leaves a snapshot and the journal files after it: on
 * open, records the snapshot holds are skipped, versions the history holds
 * already are not appended again, and a body both in a file and inline is
 * read from the file. A failed compaction deletes nothing; the next one
 * takes up what it left.
 */
import { Buffer } from 'node:buffer'
import { join } from 'node:path'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { type SyncCounter, writeFileDurably } from './fs-durable.ts'
import type { HistoryLog } from './history-log.ts'
import type { Gate } from './keyed-locks.ts'
import type { MessageBodies } from './message-bodies.ts'
import { entriesOf } from './outbox-entries.ts'
import { indexedMessage } from './outbox-index.ts'
import type { OutboxJournal } from './outbox-journal.ts'
import type { BodyPlace } from './outbox-journal-format.ts'
import type { StoredVersion } from './outbox-schema.ts'
import type { OutboxState } from './outbox-state.ts'

export const SNAPSHOT_FILE = 'outbox.json'
/** The journal grows to this at least before it is compacted. */
const MIN_JOURNAL_BYTES = 1 << 20
/** And at most to this, however large the snapshot: what it holds is also kept in memory until then. */
const MAX_JOURNAL_BYTES = 32 << 20
/**
 * Bodies moved to files together (written side by side, one folder sync):
 * at most so many, and so many bytes. While the store runs, few at a time,
 * so that their fsyncs do not queue the journal's writes behind them in
 * libuv's thread pool; on close, as many as help.
 */
const BODIES_PER_BATCH = { running: 8, closing: 256 }
const BODY_BYTES_PER_BATCH = 16 << 20

/** `runtime`: moves the bodies of earlier rounds; `open`: none (a quick start); `close`: all. */
export type CompactionMode = 'runtime' | 'open' | 'close'

export interface CompactorParts {
  dataDir: string
  state: OutboxState
  journal: OutboxJournal
  history: HistoryLog
  bodies: MessageBodies
  counter: SyncCounter
  /** Held shared while compacting, so that a sweep (exclusive) never rewrites a segment meanwhile. */
  gate: Gate
  /** The size of `outbox.json` on disk (0: none). */
  snapshotBytes: number
  /** The journal grows to this at least before a compaction; default 1 MiB. */
  compactAfterBytes?: number
}

export class OutboxCompactor {
  readonly #parts: CompactorParts
  /** Sealed journal files still on disk, each holding a body still needed or not yet covered by a snapshot. */
  readonly #sealed = new Set<number>()
  #snapshotBytes: number
  #wanted: CompactionMode | undefined
  #running: Promise<void> | undefined
  /** Why the last compaction failed, until one succeeds. */
  #failed: unknown

  constructor(parts: CompactorParts) {
    this.#parts = parts
    this.#snapshotBytes = parts.snapshotBytes
  }

  /** Journal bytes since the last seal that start a compaction. */
  get thresholdBytes(): number {
    const floor = this.#parts.compactAfterBytes ?? MIN_JOURNAL_BYTES
    return Math.max(floor, Math.min(MAX_JOURNAL_BYTES, 2 * this.#snapshotBytes))
  }

  /** The journal's quiet point: starts a compaction when one is due or asked for and none runs. */
  quietPoint(): void {
    if (this.#running !== undefined) return
    if (this.#wanted === undefined && this.#parts.journal.bytesSinceSeal >= this.thresholdBytes) {
      this.#wanted = 'runtime'
    }
    const mode = this.#wanted
    if (mode === undefined) return
    this.#wanted = undefined
    this.#running = this.#start(mode).finally(() => {
      this.#running = undefined
    })
  }

  /** Compacts once the writes under way are done, and waits for it; rejects when it failed. */
  async compact(mode: CompactionMode): Promise<void> {
    for (;;) {
      while (this.#running !== undefined) await this.#running
      this.#wanted = mode
      this.#parts.journal.kick()
      await this.#parts.journal.flushed()
      if (this.#wanted === undefined) break
    }
    while (this.#running !== undefined) await this.#running
    if (this.#failed !== undefined) throw this.#failed
  }

  /** Waits for a compaction under way, if any (its failure is kept for the next `compact`). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  /** The synchronous part at the quiet point, then the steps in the background. */
  #start(mode: CompactionMode): Promise<void> {
    const { state, journal } = this.#parts
    const entries = Object.fromEntries(state.live)
    const text = JSON.stringify({ version: 1, seq: journal.seq, entries })
    const fold = [...state.unfolded.values()]
    const earlier = new Set(this.#sealed)
    const sealing = journal.seal()
    for (const gen of journal.generations) this.#sealed.add(gen)
    const moving =
      mode === 'open'
        ? []
        : [...state.inline].filter(([, place]) => mode === 'close' || earlier.has(place.gen))
    return (async () => {
      await sealing
      await this.#parts.gate.shared(async () => {
        await this.#fold(fold)
        const perBatch = mode === 'close' ? BODIES_PER_BATCH.closing : BODIES_PER_BATCH.running
        for (const batch of batchesOf(moving, perBatch)) await this.#moveBodies(batch)
        await writeFileDurably(join(this.#parts.dataDir, SNAPSHOT_FILE), text, this.#parts.counter)
        this.#snapshotBytes = Buffer.byteLength(text)
        const needed = state.referencedGenerations()
        const free = [...this.#sealed].filter((gen) => !needed.has(gen))
        await journal.remove(free)
        for (const gen of free) this.#sealed.delete(gen)
      })
      this.#failed = undefined
    })().catch((error: unknown) => {
      // Nothing was deleted: the journal files are still the truth, and the next compaction starts over.
      this.#failed = error
    })
  }

  /** Appends the finished versions to the history; the index points there unless a newer version came. */
  async #fold(fold: readonly StoredVersion[]): Promise<void> {
    const { history, state } = this.#parts
    const locations = await Promise.all(fold.map((version) => history.append(version)))
    fold.forEach((version, position) => {
      const id = version.entry.id
      if (state.unfolded.get(id) !== version) return
      state.unfolded.delete(id)
      state.index.put(
        indexedMessage(version.entry, version.seq, { kind: 'history', ...locations[position]! }),
      )
    })
  }

  /** Writes inline bodies to `messages/` (with their envelopes, one folder sync), then forgets their places. */
  async #moveBodies(moving: ReadonlyArray<[string, BodyPlace]>): Promise<void> {
    const { bodies, history, journal, state } = this.#parts
    const read = await Promise.all(
      moving.map(async ([id, place]) => {
        const message = state.index.get(id)
        const entry = message === undefined ? undefined : (await entriesOf(history, [message]))[0]
        if (state.inline.get(id) !== place) return undefined
        if (entry === undefined || !keepsBody(entry)) {
          state.forgetInline([id])
          return undefined
        }
        return { entry, raw: await journal.readBody(place), place }
      }),
    )
    const written = read.filter((item) => item !== undefined)
    if (written.length === 0) return
    await bodies.writeAll(written)
    const gone: string[] = []
    for (const { entry, place } of written) {
      const id = entry.id
      if (state.inline.get(id) === place) state.forgetInline([id])
      // Sent or canceled meanwhile: the finish found its body inline, so the file is this one's to remove.
      else if (!keepsBody(state.index.get(id) ?? { status: 'sent' })) gone.push(id)
    }
    await bodies.remove(gone)
  }
}

/** `moving` cut into batches of `perBatch` bodies and BODY_BYTES_PER_BATCH bytes of base64 at most. */
function* batchesOf<T extends [string, BodyPlace]>(moving: readonly T[], perBatch: number): Generator<T[]> {
  let batch: T[] = []
  let bytes = 0
  for (const item of moving) {
    if (batch.length > 0 && (batch.length >= perBatch || bytes + item[1].length > BODY_BYTES_PER_BATCH)) {
      yield batch
      batch = []
      bytes = 0
    }
    batch.push(item)
    bytes += item[1].length
  }
  if (batch.length > 0) yield batch
}

/** Sent and canceled messages need their body no more; failed ones keep it (they may be sent again). */
function keepsBody(message: Pick<OutboxEntry, 'status'>): boolean {
  return message.status !== 'sent' && message.status !== 'canceled'
}
