/**
 * Fleet signals for a fleet of one (tests, one process): delivered to this
 * process's listeners on the next turn, as a database would.
 */
import type { FleetSignals } from '../../domain/ports.ts'

type Listener = Parameters<FleetSignals['subscribe']>[0]

export function localSignals(): FleetSignals {
  const listeners = new Set<Listener>()
  return {
    async publish(topic, detail) {
      queueMicrotask(() => {
        for (const listener of [...listeners]) listener(topic, detail)
      })
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
