/**
 * The durable outbox under DATA_DIR, shaped so that accepting or changing a
 * message costs one shared flush, whatever the size of the history:
 *
 * - `outbox.<n>.log`: the journal (`outbox-journal.ts`). Every acceptance
 *   and change is one record appended to it, and concurrent ones share one
 *   write through O_DSYNC (group commit); bodies up to `inlineBodyMaxBytes`
 *   (256 KiB) go inline in the record.
 * - `outbox.json`: the snapshot of the unfinished messages as of a journal
 *   `seq`, rewritten only by a compaction (`outbox-compaction.ts`), in the
 *   background once the journal has grown, and on close.
 * - `history/<day>.jsonl`: finished versions, appended by the compaction;
 *   the last version of an id wins. Retention deletes or compacts whole days.
 * - `messages/<id>.eml`: bodies above the inline limit (written and fsynced
 *   before their record) and the bodies of messages that outlived a
 *   compaction or a stop, with `<id>.json` beside each (the entry, to
 *   rebuild a lost snapshot: see `outbox-recovery.ts`); removed once a
 *   message is sent or canceled.
 *
 * Indexes live in memory and are rebuilt on open (see `OutboxIndex`): the
 * snapshot, the journal after it and the history, joined by `seq`
 * (`outbox-merge.ts`), then the journal folded into the files.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Clock } from '../../domain/ports.ts'
import { DurableJsonFile } from './durable-file.ts'
import { ensurePrivateDir, SyncCounter } from './fs-durable.ts'
import { HistoryLog } from './history-log.ts'
import { scanHistory } from './history-scan.ts'
import { HISTORY_FOLDER } from './history-segment.ts'
import { Gate } from './keyed-locks.ts'
import { BODY_SUFFIX, MESSAGES_FOLDER, MessageBodies } from './message-bodies.ts'
import { OutboxCompactor, SNAPSHOT_FILE } from './outbox-compaction.ts'
import { OutboxJournal, readInlineBody } from './outbox-journal.ts'
import { journalFileName } from './outbox-journal-format.ts'
import { readJournal } from './outbox-journal-read.ts'
import { mergeOutbox } from './outbox-merge.ts'
import {
  reportBodies,
  reportHistoryRepairs,
  reportJournalRepairs,
  reportLiveFileState,
} from './outbox-notices.ts'
import {
  judgeLiveFile,
  keepOrphans,
  type NoticeListener,
  reconcileBodies,
  removeLiveTemporaries,
} from './outbox-recovery.ts'
import { INLINE_BODY_MAX_BYTES, LowdbOutbox, type OutboxStore } from './outbox-repository.ts'
import { type LiveFile, liveFileSchema } from './outbox-schema.ts'

export { writeHistorySegment } from './history-segment.ts'
export type { NoticeListener } from './outbox-recovery.ts'
export type { OutboxStore } from './outbox-repository.ts'

/** Finished messages are kept 30 days unless told otherwise. */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000

export interface OutboxStoreOptions {
  dataDir: string
  clock: Clock
  /** How long finished messages stay listed; `sweep` drops older ones. */
  retentionMs?: number
  /**
   * Hears of every repair made on open (see `outbox-recovery.ts`), with the
   * file, line, count or ids concerned: names only, never content.
   */
  onNotice?: NoticeListener
  /** Bodies up to this many bytes go inline in the journal; larger ones are files. Default 256 KiB. */
  inlineBodyMaxBytes?: number
  /** The journal grows to this at least before it is folded into the files; default 1 MiB. */
  compactAfterBytes?: number
}

/** Opens (creating if needed) the outbox under `dataDir`, folders 0700 and files 0600. */
export async function openOutboxRepository(options: OutboxStoreOptions): Promise<OutboxStore> {
  const { dataDir, clock } = options
  const notice = options.onNotice ?? (() => {})
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS
  const counter = new SyncCounter()
  const historyFolder = join(dataDir, HISTORY_FOLDER)
  const messagesFolder = join(dataDir, MESSAGES_FOLDER)
  await ensurePrivateDir(dataDir)
  await ensurePrivateDir(historyFolder)
  await ensurePrivateDir(messagesFolder)

  const scan = await scanHistory(historyFolder, counter)
  const liveTemporaries = await removeLiveTemporaries(dataDir, SNAPSHOT_FILE)
  if (liveTemporaries > 0) {
    notice('Removed interrupted writes of the outbox file', { file: SNAPSHOT_FILE, count: liveTemporaries })
  }
  const snapshotPath = join(dataDir, SNAPSHOT_FILE)
  const stored = await new DurableJsonFile<LiveFile>(snapshotPath, liveFileSchema).read()
  const onDisk = await readJournal(dataDir, counter)
  const bodyNames = await readdir(messagesFolder)
  const merged = mergeOutbox(scan, stored ?? { version: 1, entries: {} }, onDisk)
  const { state } = merged
  const judged = judgeLiveFile(stored, scan, bodyNames, {
    records: onDisk.versions.length,
    ids: merged.journalIds,
  })
  reportHistoryRepairs(scan, state.index, merged.journalIds, notice)
  reportJournalRepairs(onDisk.dropped, state.index, merged.journalIds, notice)
  if (merged.superseded > 0) {
    notice('Dropped entries of the outbox file that the history shows finished (interrupted clean-up)', {
      file: SNAPSHOT_FILE,
      count: merged.superseded,
    })
  }

  const bodies = new MessageBodies(messagesFolder, counter)
  const orphans = await Promise.all(
    merged.orphans.map(async ({ entry, place }) => ({
      entry,
      raw: await readInlineBody(join(dataDir, journalFileName(place.gen)), place),
    })),
  )
  const lostInline = await keepOrphans(dataDir, orphans, counter)
  const outcome = await reconcileBodies({
    dataDir,
    bodies,
    names: bodyNames,
    index: state.index,
    inline: new Set(state.inline.keys()),
    rebuild: judged.kind !== 'intact',
    cutoff: clock.now() - retentionMs,
  })
  outcome.lost.push(...lostInline)
  // A body both in a file and inline (a crash after a compaction moved it): the file is read.
  state.forgetInline(bodyNames.filter((name) => name.endsWith(BODY_SUFFIX)).map((name) => name.slice(0, -4)))
  let seq = merged.maxSeq
  for (const entry of outcome.rebuilt) state.apply({ seq: ++seq, entry })
  reportLiveFileState(judged, outcome.rebuilt.length, notice)
  reportBodies(outcome, notice)

  const gate = new Gate()
  const history = new HistoryLog(historyFolder, scan.segments, counter)
  let compactor: OutboxCompactor | undefined
  const journal = new OutboxJournal({
    dataDir,
    generations: onDisk.generations,
    seq,
    counter,
    between: () => compactor?.quietPoint(),
  })
  compactor = new OutboxCompactor({
    dataDir,
    state,
    journal,
    history,
    bodies,
    counter,
    gate,
    snapshotBytes: stored === null ? 0 : (await stat(snapshotPath)).size,
    ...(options.compactAfterBytes === undefined ? {} : { compactAfterBytes: options.compactAfterBytes }),
  })
  const store = new LowdbOutbox({
    state,
    journal,
    compactor,
    history,
    bodies,
    gate,
    counter,
    clock,
    retentionMs,
    inlineBodyMaxBytes: options.inlineBodyMaxBytes ?? INLINE_BODY_MAX_BYTES,
  })
  const repaired = merged.superseded > 0 || judged.kind !== 'intact' || outcome.rebuilt.length > 0
  if (stored === null || repaired || onDisk.generations.length > 0) {
    // What the journal holds goes into the files, so that they stay bounded across restarts.
    await compactor.compact('open').catch((error: unknown) => {
      notice('Could not fold the outbox journal into the snapshot at start; it stays, still the truth', {
        file: SNAPSHOT_FILE,
        code: (error as { code?: string }).code ?? 'unknown',
      })
    })
  }
  return store
}
