/**
 * Timers, injected so that tests drive time by hand.
 */
export interface Scheduler {
  /** Calls `fn` once after `ms` milliseconds; returns a cancel function. */
  after(ms: number, fn: () => void): () => void
}

/** The longest delay a platform timer takes (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2_147_483_647

export const realScheduler: Scheduler = {
  after(ms, fn) {
    let handle: ReturnType<typeof setTimeout>
    let canceled = false
    const arm = (remaining: number) => {
      const step = Math.min(Math.max(0, remaining), MAX_TIMER_MS)
      handle = setTimeout(() => {
        if (canceled) return
        if (remaining > MAX_TIMER_MS) arm(remaining - MAX_TIMER_MS)
        else fn()
      }, step)
    }
    arm(ms)
    return () => {
      canceled = true
      clearTimeout(handle)
    }
  },
}
