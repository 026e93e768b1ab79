/**
 * Group commit for the outbox's and the quota's writes: requests asked
 * while a batch of their lane is on its way (or in the same turn of the
 * event loop) wait and share the next one: one transaction, one commit,
 * one WAL flush for all of them, instead of one each. Nobody waits for
 * company: a request alone goes at once.
 *
 * Lanes (`laneOf`) are independent queues, one batch in flight each (the
 * quota's lane is the account: its reservations go in the order asked).
 * `run` answers each request of a batch with a value or an error of its
 * own; if it throws, every request of the batch gets that error. Each
 * caller hears only once the batch's transaction has committed.
 */

export type Outcome<T> = { value: T } | { error: unknown }

export interface GroupCommitOptions<Request, Result> {
  run(batch: readonly Request[]): Promise<Outcome<Result>[]>
  /** Requests one batch takes at most (default 100). */
  max?: number
  /** How much of the batch's budget a request uses (default 1 each; see `budget`). */
  weight?(request: Request): number
  /** The most weight one batch carries; a request heavier than it goes alone. */
  budget?: number
  /** The lane of a request (default one lane). */
  laneOf?(request: Request): string
  /** Requests of one key go in different batches (e.g. two settles of one message). */
  keyOf?(request: Request): string
}

interface Waiting<Request, Result> {
  request: Request
  resolve(value: Result): void
  reject(error: unknown): void
}

interface Lane<Request, Result> {
  queue: Waiting<Request, Result>[]
  busy: boolean
}

export function groupCommit<Request, Result>(
  options: GroupCommitOptions<Request, Result>,
): (request: Request) => Promise<Result> {
  const max = options.max ?? 100
  const budget = options.budget ?? Number.POSITIVE_INFINITY
  const lanes = new Map<string, Lane<Request, Result>>()

  const take = (lane: Lane<Request, Result>): Waiting<Request, Result>[] => {
    const batch: Waiting<Request, Result>[] = []
    const keys = new Set<string>()
    let weight = 0
    for (let index = 0; index < lane.queue.length && batch.length < max; ) {
      const waiting = lane.queue[index]!
      const key = options.keyOf?.(waiting.request)
      const heavy = options.weight?.(waiting.request) ?? 1
      if (batch.length > 0 && weight + heavy > budget) break
      if (key !== undefined && keys.has(key)) {
        index++
        continue
      }
      if (key !== undefined) keys.add(key)
      weight += heavy
      batch.push(...lane.queue.splice(index, 1))
    }
    return batch
  }

  const drain = async (name: string, lane: Lane<Request, Result>) => {
    try {
      while (lane.queue.length > 0) {
        const batch = take(lane)
        let outcomes: Outcome<Result>[]
        try {
          outcomes = await options.run(batch.map((waiting) => waiting.request))
        } catch (error) {
          for (const waiting of batch) waiting.reject(error)
          continue
        }
        for (const [index, waiting] of batch.entries()) {
          const outcome = outcomes[index]
          if (outcome === undefined) waiting.reject(new Error('The batch gave no answer for this request'))
          else if ('error' in outcome) waiting.reject(outcome.error)
          else waiting.resolve(outcome.value)
        }
      }
    } finally {
      lane.busy = false
      if (lane.queue.length === 0) lanes.delete(name)
    }
  }

  return (request) =>
    new Promise<Result>((resolve, reject) => {
      const name = options.laneOf?.(request) ?? ''
      let lane = lanes.get(name)
      if (lane === undefined) {
        lane = { queue: [], busy: false }
        lanes.set(name, lane)
      }
      lane.queue.push({ request, resolve, reject })
      if (lane.busy) return
      lane.busy = true
      const started = lane
      // The rest of this turn's requests (a claim's reservations, say) join the first batch.
      queueMicrotask(() => void drain(name, started))
    })
}
