/**
 * Tells the other replicas of new work for an account, at once but once a
 * turn: several accepts in one turn of the event loop make one signal per
 * account. Losing one is harmless (the replicas also poll).
 */
import type { FleetSignals } from '../../domain/ports.ts'

export function mailAnnouncer(signals: FleetSignals): (account: string) => void {
  const announced = new Set<string>()
  return (account) => {
    if (announced.has(account)) return
    announced.add(account)
    queueMicrotask(() => {
      announced.delete(account)
      signals.publish('mail', account).catch(() => undefined)
    })
  }
}
