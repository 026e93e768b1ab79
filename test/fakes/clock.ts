/** A clock and a scheduler that move only when the test says so. */
import type { Scheduler } from '../../src/app/scheduler.ts'
import type { Clock } from '../../src/domain/ports.ts'

export interface ManualTime extends Clock, Scheduler {
  set(ms: number): void
  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): Promise<void>
  pendingTimers(): number
}

export function manualTime(start = Date.UTC(2026, 10, 26, 9, 0, 0)): ManualTime {
  let now = start
  let seq = 0
  const timers = new Map<number, { at: number; fn: () => void }>()
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
  }
  return {
    now: () => now,
    set(ms) {
      now = ms
    },
    after(ms, fn) {
      const id = ++seq
      timers.set(id, { at: now + Math.max(0, ms), fn })
      return () => timers.delete(id)
    },
    async advance(ms) {
      const until = now + ms
      await settle()
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined
        for (const item of timers) if (item[1].at <= until && (!next || item[1].at < next[1].at)) next = item
        if (!next) break
        timers.delete(next[0])
        now = Math.max(now, next[1].at)
        next[1].fn()
        await settle()
      }
      now = until
      await settle()
    },
    pendingTimers: () => timers.size,
  }
}

/**
 * Moves `time` forward by `ms` as a machine waking from sleep sees it: the
 * clock jumps to `runMs` before the end, then those last `runMs` pass with
 * every timer due in them run (a timer due during the jump runs once,
 * late). For days of service time, where a poller firing every second
 * would make `advance` run hundreds of thousands of timers.
 */
export async function leap(time: ManualTime, ms: number, runMs = 120_000): Promise<void> {
  const run = Math.min(ms, runMs)
  time.set(time.now() + ms - run)
  await time.advance(run)
}
