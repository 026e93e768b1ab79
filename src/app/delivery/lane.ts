/**
 * One sending account's lane: its live messages in acceptance order, the
 * sends in flight, and the recent send times that pacing counts.
 */
import { nextSendTime, type SendWindow } from '../../domain/delivery/pacing.ts'
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
  /** Counts releases, so that an attempt started before one can tell its failure is stale. */
  releases: number
  /** Outcomes sent to Gmail but not yet on disk: while above 0 nothing new goes out (see `outcome-recorder.ts`). */
  unrecorded: number
  /** Set while the account's past sends are read, before the lane may send. */
  loading?: Promise<void>
  timerAt?: number
  cancelTimer?: () => void
}

export function newLane(account: string): Lane {
  return { account, waiting: [], inFlight: 0, sendTimes: [], held: false, releases: 0, unrecorded: 0 }
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
 * In a held lane, the messages that would go now if it were not held:
 * queued ones, and scheduled ones whose time has come.
 */
export function dueWhileHeld(lane: Lane, now: number): OutboxEntry[] {
  if (!lane.held) return []
  return lane.waiting.filter(
    (entry) => entry.status === 'queued' || (entry.status === 'scheduled' && (entry.sendAt ?? 0) <= now),
  )
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

function isReady(lane: Lane, entry: OutboxEntry, now: number): boolean {
  if (lane.held) return false
  if (entry.status === 'scheduled') return (entry.sendAt ?? 0) <= now
  return entry.status === 'queued' && (entry.nextAttemptAt ?? 0) <= now
}

/**
 * The earliest time pacing lets the waiting message `id` start, behind every
 * message ready before it; `Infinity` when it is not ready or cannot start
 * by `horizon` (the search stops there).
 */
export function earliestStart(
  lane: Lane,
  id: string,
  now: number,
  windows: readonly SendWindow[],
  horizon: number,
): number {
  const times = [...lane.sendTimes]
  for (const entry of lane.waiting) {
    if (!isReady(lane, entry, now)) {
      if (entry.id === id) return Number.POSITIVE_INFINITY
      continue
    }
    const start = nextSendTime(times, now, windows)
    if (entry.id === id) return start
    if (start > horizon) return Number.POSITIVE_INFINITY
    times.push(start)
  }
  return Number.POSITIVE_INFINITY
}
