/**
 * Pacing of one account's sends under Gmail's quotas: a per-user quota
 * counted over short windows (6,000 units a minute = 60 sends for new
 * projects) and a daily limit (2,000 a rolling 24 h on Workspace).
 * See https://developers.google.com/workspace/gmail/api/reference/quota
 */

/** At most `count` sends in any window of `ms` milliseconds. */
export interface SendWindow {
  count: number
  ms: number
}

export interface PacingLimits {
  /** 0 turns per-minute pacing off. */
  perMinute: number
  /** 0 turns the daily budget off. */
  perDay: number
  /** Sends allowed back to back; the rest are spread evenly. Default: 2 seconds' worth. */
  burst?: number
  /** Added to the minute window so clock skew and latency never push Google's count over. */
  marginMs?: number
}

export const DAY_MS = 24 * 60 * 60_000

/** The windows that `limits` impose, tightest first. */
export function sendWindows(limits: PacingLimits): SendWindow[] {
  const windows: SendWindow[] = []
  if (limits.perMinute > 0) {
    const interval = 60_000 / limits.perMinute
    const burst = Math.max(1, Math.min(limits.perMinute, limits.burst ?? Math.floor(limits.perMinute / 30)))
    windows.push({ count: burst, ms: Math.ceil(burst * interval) })
    windows.push({ count: limits.perMinute, ms: 60_000 + (limits.marginMs ?? 1_000) })
  }
  if (limits.perDay > 0) windows.push({ count: limits.perDay, ms: DAY_MS })
  return windows
}

/**
 * The earliest time at or after `now` when one more send keeps every window,
 * given the start times of earlier sends (ascending).
 */
export function nextSendTime(
  sendTimes: readonly number[],
  now: number,
  windows: readonly SendWindow[],
): number {
  let earliest = now
  for (const window of windows) {
    const inWindow = countSince(sendTimes, now - window.ms)
    if (inWindow < window.count) continue
    // The send that must leave the window before another may enter it.
    const blocking = sendTimes[sendTimes.length - window.count]
    if (blocking !== undefined) earliest = Math.max(earliest, blocking + window.ms + 1)
  }
  return earliest
}

/** Drops send times older than the longest window, keeping the list small. */
export function pruneSendTimes(sendTimes: number[], now: number, windows: readonly SendWindow[]): void {
  const longest = windows.reduce((max, window) => Math.max(max, window.ms), 0)
  const keepFrom = firstIndexAfter(sendTimes, now - longest)
  if (keepFrom > 0) sendTimes.splice(0, keepFrom)
}

function countSince(sendTimes: readonly number[], since: number): number {
  return sendTimes.length - firstIndexAfter(sendTimes, since)
}

/** Index of the first time strictly greater than `since` (binary search). */
function firstIndexAfter(sendTimes: readonly number[], since: number): number {
  let low = 0
  let high = sendTimes.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((sendTimes[mid] ?? 0) > since) high = mid
    else low = mid + 1
  }
  return low
}
