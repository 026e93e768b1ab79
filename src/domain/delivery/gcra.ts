/**
 * Per-account pacing as GCRA (the generic cell rate algorithm): one number
 * per account, its theoretical arrival time (`tat`), is all that a shared
 * store keeps, so that any replica can reserve the next send under one row
 * lock. Pure arithmetic: the adapters only translate it.
 *
 * The burst matches the in-memory pacing of `pacing.ts` (2 seconds' worth
 * back to back by default). The interval is chosen so that, burst included,
 * any window of one minute plus the margin holds at most `perMinute` sends:
 * plain GCRA at 60 000 / perMinute would let `burst - 1` more through.
 */
import { DAY_MS, type PacingLimits } from './pacing.ts'

export interface GcraRate {
  /** Milliseconds the theoretical arrival time moves on per send. */
  intervalMs: number
  /** How far ahead of `tat` a send may go: (burst - 1) intervals. */
  toleranceMs: number
  /** Sends allowed back to back. */
  burst: number
}

export interface PacingState {
  /** Theoretical arrival time of the next send (epoch ms); `undefined` for a fresh account. */
  tat?: number
  /** A 429's Retry-After: no send before this (epoch ms). */
  blockedUntil?: number
}

/** The GCRA rate of `limits`; `undefined` when per-minute pacing is off. */
export function gcraRate(limits: PacingLimits): GcraRate | undefined {
  if (limits.perMinute <= 0) return undefined
  const burst = Math.max(1, Math.min(limits.perMinute, limits.burst ?? Math.floor(limits.perMinute / 30)))
  const windowMs = 60_000 + (limits.marginMs ?? 1_000)
  // Rounded up to the next microsecond (what PostgreSQL keeps), and one more, so that
  // sums of intervals never fall short of the window by a rounding error.
  const intervalMs = (Math.floor((windowMs * 1000) / (limits.perMinute - burst + 1)) + 1) / 1000
  return { intervalMs, toleranceMs: (burst - 1) * intervalMs, burst }
}

/**
 * Reserves one send at or after `now`: when it may go (`at`) and the state
 * to store. Never refuses; a busy account gets a later `at`.
 */
export function reserveSlot(
  state: PacingState,
  now: number,
  rate: GcraRate | undefined,
): { at: number; next: PacingState } {
  const earliest = Math.max(now, state.blockedUntil ?? now)
  if (rate === undefined) return { at: earliest, next: { ...state } }
  const tat = Math.max(state.tat ?? earliest, earliest)
  const at = Math.max(earliest, tat - rate.toleranceMs)
  return { at, next: { ...state, tat: tat + rate.intervalMs } }
}

/**
 * A 429's Retry-After: nothing before `untilMs`, and no burst right after
 * it either (the sends resume one interval apart).
 */
export function blockUntil(state: PacingState, untilMs: number, rate: GcraRate | undefined): PacingState {
  const blockedUntil = Math.max(state.blockedUntil ?? untilMs, untilMs)
  const resumeTat = blockedUntil + (rate?.toleranceMs ?? 0)
  return { tat: Math.max(state.tat ?? resumeTat, resumeTat), blockedUntil }
}

/**
 * The daily budget: `undefined` when one more send fits the rolling 24 h
 * (`count` sends in it, the oldest at `oldest`), else when it will, which is
 * just after the oldest send leaves the window.
 */
export function dailyDeferral(
  count: number,
  oldest: number | undefined,
  now: number,
  perDay: number,
): number | undefined {
  if (perDay <= 0 || count < perDay) return undefined
  return Math.max(now, (oldest ?? now) + DAY_MS + 1)
}
