/**
 * The durable outbox under DATA_DIR, shaped so that the cost of accepting
 * or updating a message does not grow with the history:
 *
 * - `messages/<id>.eml`: raw bodies, written and fsynced before the entry is
 *   recorded, with `<id>.json` beside each (the entry as accepted, to rebuild
 *   a lost outbox file: see `outbox-recovery.ts`); removed once a message is
 *   sent or canceled.
 * - `outbox.json` (lowdb, group-committed): unfinished messages only.
 * - `history/<day>.jsonl`: finished versions, appended and fsynced; the last
 *   version of an id wins. Retention deletes or compacts whole days.
 *
 * Indexes live in memory and are rebuilt on open (see `OutboxIndex`).
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Low } from 'lowdb'
import type { Clock } from '../../domain/ports.ts'
import { DurableJsonFile } from './durable-file.ts'
import { ensurePrivateDir } from './fs-durable.ts'
import { HistoryLog } from './history-log.ts'
import { type HistoryScan, scanHistory } from './history-scan.ts'
import { HISTORY_FOLDER } from './history-segment.ts'
import { MESSAGES_FOLDER, MessageBodies } from './message-bodies.ts'
import { indexedMessage, type OutboxIndex } from './outbox-index.ts'
import { mergeOutbox } from './outbox-merge.ts'
import {
  type BodiesOutcome,
  judgeLiveFile,
  type LiveFileState,
  LOST_AND_FOUND_FOLDER,
  type NoticeListener,
  namedIds,
  reconcileBodies,
  removeLiveTemporaries,
} from './outbox-recovery.ts'
import { LowdbOutbox, type OutboxStore } from './outbox-repository.ts'
import { type LiveFile, liveFileSchema } from './outbox-schema.ts'

export { writeHistorySegment } from './history-segment.ts'
export type { NoticeListener } from './outbox-recovery.ts'
export type { OutboxStore } from './outbox-repository.ts'

/** Finished messages are kept 30 days unless told otherwise. */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000

const LIVE_FILE = 'outbox.json'

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
}

/** Opens (creating if needed) the outbox under `dataDir`, folders 0700 and files 0600. */
export async function openOutboxRepository(options: OutboxStoreOptions): Promise<OutboxStore> {
  const notice = options.onNotice ?? (() => {})
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS
  const historyFolder = join(options.dataDir, HISTORY_FOLDER)
  const messagesFolder = join(options.dataDir, MESSAGES_FOLDER)
  await ensurePrivateDir(options.dataDir)
  await ensurePrivateDir(historyFolder)
  await ensurePrivateDir(messagesFolder)

  const scan = await scanHistory(historyFolder)
  const liveTemporaries = await removeLiveTemporaries(options.dataDir, LIVE_FILE)
  if (liveTemporaries > 0) {
    notice('Removed interrupted writes of the outbox file', { file: LIVE_FILE, count: liveTemporaries })
  }
  const liveFile = new DurableJsonFile<LiveFile>(join(options.dataDir, LIVE_FILE), liveFileSchema)
  const stored = await liveFile.read()
  const live = new Low<LiveFile>(liveFile, { version: 1, entries: {} })
  if (stored !== null) live.data = stored
  const bodyNames = await readdir(messagesFolder)
  const state = judgeLiveFile(stored, scan, bodyNames)
  const liveCount = Object.keys(live.data.entries).length
  const { index, maxSeq, liveChanged } = mergeOutbox(scan, live.data)
  reportHistoryRepairs(scan, index, notice)
  if (liveChanged) {
    notice('Dropped entries of the outbox file that the history shows finished (interrupted clean-up)', {
      file: LIVE_FILE,
      count: liveCount - Object.keys(live.data.entries).length,
    })
  }

  const bodies = new MessageBodies(messagesFolder)
  const outcome = await reconcileBodies({
    dataDir: options.dataDir,
    bodies,
    names: bodyNames,
    index,
    rebuild: state.kind !== 'intact',
    cutoff: options.clock.now() - retentionMs,
  })
  let nextSeq = maxSeq + 1
  for (const entry of outcome.rebuilt) {
    const version = { seq: nextSeq++, entry }
    live.data.entries[entry.id] = version
    index.put(indexedMessage(entry, version.seq, { kind: 'live', entry }))
  }
  live.data.seq = nextSeq - 1
  if (liveChanged || state.kind !== 'intact') await live.write()
  reportLiveFileState(state, outcome.rebuilt.length, notice)
  reportBodies(outcome, notice)

  return new LowdbOutbox({
    live,
    index,
    history: new HistoryLog(historyFolder, scan.segments),
    bodies,
    nextSeq,
    clock: options.clock,
    retentionMs,
  })
}

function reportHistoryRepairs(scan: HistoryScan, index: OutboxIndex, notice: NoticeListener): void {
  if (scan.temporariesRemoved > 0) {
    notice('Removed interrupted rewrites of the history', {
      folder: HISTORY_FOLDER,
      count: scan.temporariesRemoved,
    })
  }
  for (const { segment, line, id } of scan.dropped) {
    const fields: Record<string, string | number> = { file: `${HISTORY_FOLDER}/${segment}`, line }
    if (id === undefined) {
      notice('Dropped an incomplete last line of the history (interrupted write)', fields)
      continue
    }
    const place = index.get(id)?.place.kind
    fields.id = id
    if (place === undefined) {
      notice(
        'Dropped an incomplete last line of the history (interrupted write); its message has no other record',
        fields,
      )
    } else {
      fields.keptFrom = place === 'live' ? LIVE_FILE : HISTORY_FOLDER
      notice(
        'Dropped an incomplete last line of the history (interrupted write); its message keeps its last whole record',
        fields,
      )
    }
  }
}

function reportLiveFileState(state: LiveFileState, rebuilt: number, notice: NoticeListener): void {
  if (state.kind === 'missing') {
    notice('The outbox file was missing; rebuilt its unfinished messages from their stored envelopes', {
      file: LIVE_FILE,
      rebuilt,
    })
  } else if (state.kind === 'older') {
    notice(
      'The outbox file is older than the history; rebuilt its missing unfinished messages from their stored envelopes',
      {
        file: LIVE_FILE,
        seq: state.seq,
        changedSince: state.changedSince,
        rebuilt,
      },
    )
  }
}

function reportBodies(outcome: BodiesOutcome, notice: NoticeListener): void {
  if (outcome.temporariesRemoved > 0) {
    notice('Removed interrupted writes of message bodies', {
      folder: MESSAGES_FOLDER,
      count: outcome.temporariesRemoved,
    })
  }
  if (outcome.finishedRemoved > 0) {
    notice('Removed the bodies of sent or canceled messages (interrupted clean-up)', {
      folder: MESSAGES_FOLDER,
      count: outcome.finishedRemoved,
    })
  }
  if (outcome.lost.length > 0) {
    notice('Moved message bodies that no record accounts for aside; they will not be sent', {
      folder: LOST_AND_FOUND_FOLDER,
      count: outcome.lost.length,
      ids: namedIds(outcome.lost),
    })
  }
  if (outcome.withoutBody.length > 0) {
    notice('Unfinished messages have no stored body; they will fail when their turn comes', {
      folder: MESSAGES_FOLDER,
      count: outcome.withoutBody.length,
      ids: namedIds(outcome.withoutBody),
    })
  }
}
