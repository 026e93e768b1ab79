/**
 * One sending account's lane: its live messages in acceptance order, the
 * sends in flight, and the recent send times that pacing counts.
 */
import type { OutboxEntry } from '../../domain/mail/record.ts'

export interface Lane {
  account: string
  /** Live messages not in flight, ordered by createdAt. */
  waiting: OutboxEntry[]
  inFlight: number
  /** Start times of recent sends, ascending (the last 24 h at most). */
  sendTimes: number[]
  /** The account needs reauthorization: nothing goes out. */
  held: boolean
  timerAt?: number
  cancelTimer?: () => void
}

export function newLane(account: string): Lane {
  return { account, waiting: [], inFlight: 0, sendTimes: [], held: false }
}

/** Inserts keeping acceptance order (binary search on createdAt, then id). */
export function insertWaiting(lane: Lane, entry: OutboxEntry): void {
  const list = lane.waiting
  let low = 0
  let high = list.length
  while (low < high) {
    const mid = (low + high) >>> 1
    const other = list[mid]!
    const before =
      other.createdAt < entry.createdAt || (other.createdAt === entry.createdAt && other.id < entry.id)
    if (before) low = mid + 1
    else high = mid
  }
  list.splice(low, 0, entry)
}

export function removeWaiting(lane: Lane, id: string): OutboxEntry | undefined {
  const index = lane.waiting.findIndex((entry) => entry.id === id)
  if (index < 0) return undefined
  return lane.waiting.splice(index, 1)[0]
}

/**
 * The first message that may go now, or the time to look again.
 * Scheduled messages whose time has come turn queued here.
 */
export function pickReady(lane: Lane, now: number): { ready?: OutboxEntry; wakeAt: number } {
  let wakeAt = Number.POSITIVE_INFINITY
  for (const entry of lane.waiting) {
    if (entry.status === 'scheduled') {
      const due = entry.sendAt ?? 0
      if (due > now) {
        wakeAt = Math.min(wakeAt, due)
        continue
      }
      if (lane.held) continue
      return { ready: entry, wakeAt }
    }
    if (entry.status !== 'queued' || lane.held) continue
    const due = entry.nextAttemptAt ?? 0
    if (due <= now) return { ready: entry, wakeAt }
    wakeAt = Math.min(wakeAt, due)
  }
  return { wakeAt }
}
