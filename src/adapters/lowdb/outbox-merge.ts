/**
 * Joins the snapshot, the journal and the history on open. Every version
 * carries a growing `seq`, and the highest one of an id is its state:
 *
 * - the snapshot holds the unfinished messages as of its `seq`; the journal
 *   versions after it are applied on top, in order (a record the snapshot
 *   holds already, left by a crash between the snapshot and the deletion
 *   of its journal file, is skipped);
 * - a finished version the history holds already (a crash between a
 *   compaction's history append and its snapshot) is not kept apart again;
 * - an entry of the snapshot that the history supersedes is dropped (the
 *   previous layout's crash between its history line and its live file; a
 *   failed message the admin sent back to the queue is newer and stays).
 *
 * Inline bodies are kept for the messages that still need theirs; one whose
 * message no record holds is handed back (the caller moves it aside).
 */
import { ServiceError } from '../../domain/errors.ts'
import { isFinished, type OutboxEntry } from '../../domain/mail/record.ts'
import type { HistoryScan } from './history-scan.ts'
import { type IndexedMessage, indexedMessage, OutboxIndex } from './outbox-index.ts'
import type { BodyPlace } from './outbox-journal-format.ts'
import type { JournalOnDisk, JournalVersion } from './outbox-journal-read.ts'
import type { LiveFile, StoredVersion } from './outbox-schema.ts'
import { OutboxState } from './outbox-state.ts'

export interface MergedOutbox {
  state: OutboxState
  maxSeq: number
  /** Entries of the snapshot dropped because the history holds a newer version of them. */
  superseded: number
  /** Ids the journal holds a version of after the snapshot. */
  journalIds: ReadonlySet<string>
  /** Inline bodies of messages no record holds, with the entry their record gave. */
  orphans: Array<{ entry: OutboxEntry; place: BodyPlace }>
}

export function mergeOutbox(scan: HistoryScan, snapshot: LiveFile, journal: JournalOnDisk): MergedOutbox {
  const snapshotSeq = snapshot.seq ?? 0
  const live = new Map<string, StoredVersion>()
  let maxSeq = Math.max(scan.maxSeq, snapshotSeq, journal.maxSeq)
  for (const [id, version] of Object.entries(snapshot.entries)) {
    if (version.entry.id !== id || isFinished(version.entry.status)) {
      throw new ServiceError('STORAGE', 'The store file outbox.json does not have the expected shape')
    }
    maxSeq = Math.max(maxSeq, version.seq)
    live.set(id, version)
  }

  const latest = new Map<string, JournalVersion>()
  const withBody = new Map<string, JournalVersion>()
  for (const version of journal.versions) {
    const id = version.entry.id
    if (version.body !== undefined && (withBody.get(id)?.seq ?? 0) < version.seq) withBody.set(id, version)
    if (version.seq > snapshotSeq && (latest.get(id)?.seq ?? 0) < version.seq) latest.set(id, version)
  }
  const finished = new Map<string, StoredVersion>()
  for (const [id, version] of latest) {
    if ((live.get(id)?.seq ?? 0) >= version.seq) continue
    const stored = { seq: version.seq, entry: version.entry }
    if (isFinished(version.entry.status)) {
      live.delete(id)
      finished.set(id, stored)
    } else live.set(id, stored)
  }

  let superseded = 0
  for (const [id, version] of live) {
    const inHistory = scan.versions.get(id)
    if (inHistory === undefined || inHistory.head.seq < version.seq) continue
    live.delete(id)
    if (!latest.has(id)) superseded += 1
  }
  const unfolded = new Map<string, StoredVersion>()
  for (const [id, version] of finished) {
    if ((scan.versions.get(id)?.head.seq ?? 0) < version.seq) unfolded.set(id, version)
  }

  const messages: IndexedMessage[] = []
  for (const { seq, entry } of live.values())
    messages.push(indexedMessage(entry, seq, { kind: 'live', entry }))
  for (const { seq, entry } of unfolded.values()) {
    messages.push(indexedMessage(entry, seq, { kind: 'journal', entry }))
  }
  for (const [id, { head, location }] of scan.versions) {
    if (live.has(id) || unfolded.has(id)) continue
    messages.push(indexedMessage(head, head.seq, { kind: 'history', ...location }))
  }
  const index = OutboxIndex.build(messages)

  const inline = new Map<string, BodyPlace>()
  const orphans: MergedOutbox['orphans'] = []
  for (const [id, version] of withBody) {
    const status = index.get(id)?.status
    if (status === undefined) orphans.push({ entry: version.entry, place: version.body! })
    else if (status !== 'sent' && status !== 'canceled') inline.set(id, version.body!)
  }
  return {
    state: new OutboxState({ index, live, unfolded, inline }),
    maxSeq,
    superseded,
    journalIds: new Set(latest.keys()),
    orphans,
  }
}
