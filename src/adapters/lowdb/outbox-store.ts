/**
 * The durable outbox under DATA_DIR, shaped so that the cost of accepting
 * or updating a message does not grow with the history:
 *
 * - `messages/<id>.eml`: raw bodies, written and fsynced before the entry is
 *   recorded; removed once a message is sent or canceled.
 * - `outbox.json` (lowdb, group-committed): unfinished messages only.
 * - `history/<day>.jsonl`: finished versions, appended and fsynced; the last
 *   version of an id wins. Retention deletes or compacts whole days.
 *
 * Indexes live in memory and are rebuilt on open (see `OutboxIndex`).
 */
import { join } from 'node:path'
import { Low } from 'lowdb'
import type { Clock } from '../../domain/ports.ts'
import { DurableJsonFile } from './durable-file.ts'
import { ensurePrivateDir } from './fs-durable.ts'
import { HistoryLog } from './history-log.ts'
import { scanHistory } from './history-scan.ts'
import { HISTORY_FOLDER } from './history-segment.ts'
import { MESSAGES_FOLDER, MessageBodies } from './message-bodies.ts'
import { mergeOutbox } from './outbox-merge.ts'
import { LowdbOutbox, type OutboxStore } from './outbox-repository.ts'
import { type LiveFile, liveFileSchema } from './outbox-schema.ts'

export { writeHistorySegment } from './history-segment.ts'
export type { OutboxStore } from './outbox-repository.ts'

/** Finished messages are kept 30 days unless told otherwise. */
export const DEFAULT_RETENTION_MS = 30 * 86_400_000

export interface OutboxStoreOptions {
  dataDir: string
  clock: Clock
  /** How long finished messages stay listed; `sweep` drops older ones. */
  retentionMs?: number
  /** Hears of repairs made on open (names of files only, never their content). */
  onNotice?: (message: string) => void
}

/** Opens (creating if needed) the outbox under `dataDir`, folders 0700 and files 0600. */
export async function openOutboxRepository(options: OutboxStoreOptions): Promise<OutboxStore> {
  const historyFolder = join(options.dataDir, HISTORY_FOLDER)
  const messagesFolder = join(options.dataDir, MESSAGES_FOLDER)
  await ensurePrivateDir(options.dataDir)
  await ensurePrivateDir(historyFolder)
  await ensurePrivateDir(messagesFolder)

  const scan = await scanHistory(historyFolder, options.onNotice ?? (() => {}))
  const liveFile = new DurableJsonFile<LiveFile>(join(options.dataDir, 'outbox.json'), liveFileSchema)
  const live = new Low<LiveFile>(liveFile, { version: 1, entries: {} })
  await live.read()
  const { index, maxSeq, liveChanged } = mergeOutbox(scan, live.data)
  if (liveChanged) await live.write()

  const bodies = new MessageBodies(messagesFolder)
  await bodies.removeUnneeded((id) => {
    const status = index.get(id)?.status
    return status !== undefined && status !== 'sent' && status !== 'canceled'
  })
  return new LowdbOutbox({
    live,
    index,
    history: new HistoryLog(historyFolder, scan.segments),
    bodies,
    nextSeq: maxSeq + 1,
    clock: options.clock,
    retentionMs: options.retentionMs ?? DEFAULT_RETENTION_MS,
  })
}
