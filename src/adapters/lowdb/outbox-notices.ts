/**
 * The sentences with which opening the outbox reports its repairs (see
 * `outbox-recovery.ts`): each names files, lines, counts or message ids,
 * never content.
 */

import type { HistoryScan } from './history-scan.ts'
import { HISTORY_FOLDER } from './history-segment.ts'
import { MESSAGES_FOLDER } from './message-bodies.ts'
import { SNAPSHOT_FILE } from './outbox-compaction.ts'
import type { OutboxIndex } from './outbox-index.ts'
import type { DroppedRecord } from './outbox-journal-read.ts'
import {
  type BodiesOutcome,
  type LiveFileState,
  LOST_AND_FOUND_FOLDER,
  type NoticeListener,
  namedIds,
} from './outbox-recovery.ts'

/** Where a message's last whole record is, for a notice. */
function keptFrom(index: OutboxIndex, journalIds: ReadonlySet<string>, id: string): string | undefined {
  const place = index.get(id)?.place.kind
  if (place === undefined) return undefined
  if (place === 'history') return HISTORY_FOLDER
  return journalIds.has(id) ? 'outbox journal' : SNAPSHOT_FILE
}

export function reportHistoryRepairs(
  scan: HistoryScan,
  index: OutboxIndex,
  journalIds: ReadonlySet<string>,
  notice: NoticeListener,
): void {
  if (scan.temporariesRemoved > 0) {
    notice('Removed interrupted rewrites of the history', {
      folder: HISTORY_FOLDER,
      count: scan.temporariesRemoved,
    })
  }
  for (const { segment, line, id } of scan.dropped) {
    const fields: Record<string, string | number> = { file: `${HISTORY_FOLDER}/${segment}`, line }
    reportDropped('Dropped an incomplete last line of the history (interrupted write)', fields, id, {
      index,
      journalIds,
      notice,
    })
  }
}

export function reportJournalRepairs(
  dropped: readonly DroppedRecord[],
  index: OutboxIndex,
  journalIds: ReadonlySet<string>,
  notice: NoticeListener,
): void {
  for (const { file, line, id } of dropped) {
    reportDropped(
      'Dropped an incomplete last record of the outbox journal (interrupted write)',
      { file, line },
      id,
      { index, journalIds, notice },
    )
  }
}

function reportDropped(
  message: string,
  fields: Record<string, string | number>,
  id: string | undefined,
  where: { index: OutboxIndex; journalIds: ReadonlySet<string>; notice: NoticeListener },
): void {
  if (id === undefined) {
    where.notice(message, fields)
    return
  }
  fields.id = id
  const kept = keptFrom(where.index, where.journalIds, id)
  if (kept === undefined) {
    where.notice(`${message}; its message has no other record`, fields)
  } else {
    fields.keptFrom = kept
    where.notice(`${message}; its message keeps its last whole record`, fields)
  }
}

export function reportLiveFileState(state: LiveFileState, rebuilt: number, notice: NoticeListener): void {
  if (state.kind === 'missing') {
    notice('The outbox file was missing; rebuilt its unfinished messages from their stored envelopes', {
      file: SNAPSHOT_FILE,
      rebuilt,
    })
  } else if (state.kind === 'older') {
    notice(
      'The outbox file is older than the history; rebuilt its missing unfinished messages from their stored envelopes',
      {
        file: SNAPSHOT_FILE,
        seq: state.seq,
        changedSince: state.changedSince,
        rebuilt,
      },
    )
  }
}

export function reportBodies(outcome: BodiesOutcome, notice: NoticeListener): void {
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
