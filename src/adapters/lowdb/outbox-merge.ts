/**
 * Joins the live file and the history on open. Writes go history first,
 * live file second, and every version carries a growing `seq`; so after a
 * crash between the two, an id found in both is settled by `seq`: the
 * finished version wins unless the live one is newer (a failed message that
 * the admin sent back to the queue).
 */
import { ServiceError } from '../../domain/errors.ts'
import { isFinished } from '../../domain/mail/record.ts'
import type { HistoryScan } from './history-scan.ts'
import { type IndexedMessage, indexedMessage, OutboxIndex } from './outbox-index.ts'
import type { LiveFile } from './outbox-schema.ts'

export interface MergedOutbox {
  index: OutboxIndex
  maxSeq: number
  /** Whether stale entries were dropped from `live`, which should then be written back. */
  liveChanged: boolean
}

/** Builds the index; removes from `live.entries` the entries that the history supersedes. */
export function mergeOutbox(scan: HistoryScan, live: LiveFile): MergedOutbox {
  const messages: IndexedMessage[] = []
  let maxSeq = scan.maxSeq
  let liveChanged = false
  const superseded = new Set<string>()
  for (const [id, version] of Object.entries(live.entries)) {
    if (version.entry.id !== id || isFinished(version.entry.status)) {
      throw new ServiceError('STORAGE', 'The store file outbox.json does not have the expected shape')
    }
    maxSeq = Math.max(maxSeq, version.seq)
    const finished = scan.versions.get(id)
    if (finished !== undefined && finished.head.seq >= version.seq) {
      delete live.entries[id]
      liveChanged = true
      continue
    }
    if (finished !== undefined) superseded.add(id)
    messages.push(indexedMessage(version.entry, version.seq, { kind: 'live', entry: version.entry }))
  }
  for (const [id, { head, location }] of scan.versions) {
    if (superseded.has(id)) continue
    messages.push(indexedMessage(head, head.seq, { kind: 'history', ...location }))
  }
  return { index: OutboxIndex.build(messages), maxSeq, liveChanged }
}
