import type { OutboxEntry } from '../../domain/mail/record.ts'

/**
 * Callers waiting for a message's next delivery outcome. `resolve` may hand
 * them the entry as the attempt left it, so that they need not read it back
 * from the store; a wait that times out gets nothing.
 */
export interface Waiters {
  wait(id: string, ms: number): Promise<OutboxEntry | undefined>
  resolve(id: string, entry?: OutboxEntry): void
}

export function createWaiters(): Waiters {
  const pending = new Map<string, Array<(entry?: OutboxEntry) => void>>()
  return {
    wait(id, ms) {
      return new Promise<OutboxEntry | undefined>((resolve) => {
        const timer = setTimeout(done, ms)
        function done(entry?: OutboxEntry) {
          clearTimeout(timer)
          const list = pending.get(id)
          if (list) {
            const index = list.indexOf(done)
            if (index >= 0) list.splice(index, 1)
            if (list.length === 0) pending.delete(id)
          }
          resolve(entry)
        }
        const list = pending.get(id) ?? []
        list.push(done)
        pending.set(id, list)
      })
    },
    resolve(id, entry) {
      const list = pending.get(id)
      if (!list) return
      pending.delete(id)
      for (const done of [...list]) done(entry)
    },
  }
}
