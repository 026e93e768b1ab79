/** Callers waiting for a message's next delivery outcome. */
export interface Waiters {
  wait(id: string, ms: number): Promise<void>
  resolve(id: string): void
}

export function createWaiters(): Waiters {
  const pending = new Map<string, Array<() => void>>()
  return {
    wait(id, ms) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms)
        function done() {
          clearTimeout(timer)
          const list = pending.get(id)
          if (list) {
            const index = list.indexOf(done)
            if (index >= 0) list.splice(index, 1)
            if (list.length === 0) pending.delete(id)
          }
          resolve()
        }
        const list = pending.get(id) ?? []
        list.push(done)
        pending.set(id, list)
      })
    },
    resolve(id) {
      const list = pending.get(id)
      if (!list) return
      pending.delete(id)
      for (const done of [...list]) done()
    },
  }
}
