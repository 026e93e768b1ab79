/**
 * Retention of finished messages: drops those that finished before `cutoff`
 * with their bodies, deleting whole segment files that hold nothing current
 * and rewriting those that are partly expired (superseded lines go too).
 */

import type { HistoryLog } from './history-log.ts'
import { segmentDay } from './history-segment.ts'
import type { MessageBodies } from './message-bodies.ts'
import type { HistoryLocation, IndexedMessage, OutboxIndex } from './outbox-index.ts'

/** Runs alone (the caller holds the store exclusively). Returns how many messages were dropped. */
export async function sweepHistory(parts: {
  index: OutboxIndex
  history: HistoryLog
  bodies: Pick<MessageBodies, 'remove'>
  cutoff: number
}): Promise<number> {
  const { index, history, cutoff } = parts
  const expiredIds: string[] = []
  let touched = false
  for (const segment of history.segments()) {
    const members = [...index.membersOf(segment)].map((id) => index.get(id)!)
    // Lines land in the segment of the day they finished: a day not older
    // than the cutoff holds nothing expired.
    if (members.length > 0 && segmentDay(segment)!.start >= cutoff) continue
    const expired = members.filter((message) => message.updatedAt < cutoff)
    const kept = members.filter((message) => message.updatedAt >= cutoff)
    if (kept.length === 0) {
      await history.remove(segment)
      touched = true
    } else if (expired.length > 0) {
      kept.sort((left, right) => locationOf(left).offset - locationOf(right).offset)
      const locations = await history.rewrite(segment, kept.map(locationOf))
      kept.forEach((message, position) => {
        index.put({ ...message, place: { kind: 'history', ...locations[position]! } })
      })
      touched = true
    }
    for (const message of expired) {
      index.delete(message.id)
      expiredIds.push(message.id)
    }
  }
  if (touched) await history.syncFolder()
  await parts.bodies.remove(expiredIds)
  return expiredIds.length
}

function locationOf(message: IndexedMessage): HistoryLocation {
  if (message.place.kind !== 'history') throw new Error('A finished message is not in the history')
  return message.place
}
