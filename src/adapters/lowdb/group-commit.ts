/**
 * Group commit, shared by the lowdb stores' append-only logs (the webhook
 * deliveries' `webhook-log.ts`, the outbox's `outbox-journal.ts`): the calls
 * made while one write is on its way to disk wait together for the next
 * one, so that a burst of N concurrent changes costs a few flushes, not N.
 * Calls that nobody waits for now (`lingering`) wait a few milliseconds for
 * company; any other call takes them along at once.
 *
 * One drain runs at a time and commits one batch after the other, so that
 * the owner's `between` hook runs while no write is under way: the place to
 * seal a file or take a snapshot that must fall between two batches.
 */

/** How long a call nobody waits for waits for company: a write shared by several. */
const LINGER_MS = 3

export interface GroupCommitOptions<Q> {
  /** Writes `batch` durably and settles each of its items (in order), or rejects them all. */
  commit(batch: Q[]): Promise<void>
  /** Runs before each batch and once the queue is empty, with no write under way; `queued`: items waiting. */
  between?(queued: number): void
}

export class GroupCommit<Q> {
  readonly #options: GroupCommitOptions<Q>
  readonly #queue: Q[] = []
  #draining: Promise<void> | undefined
  #lingering: ReturnType<typeof setTimeout> | undefined

  constructor(options: GroupCommitOptions<Q>) {
    this.#options = options
  }

  /** Queues `item` for the next batch; `lingering`: it may wait LINGER_MS for company. */
  push(item: Q, options: { lingering?: boolean } = {}): void {
    this.#queue.push(item)
    if (options.lingering) this.#linger()
    else this.kick()
  }

  /** Starts a drain now if none runs (it takes everything queued, and runs `between`). */
  kick(): void {
    clearTimeout(this.#lingering)
    this.#lingering = undefined
    this.#draining ??= this.#drain()
  }

  /** Resolves once everything queued so far is committed (or refused). */
  async flushed(): Promise<void> {
    if (this.#queue.length > 0) this.kick()
    while (this.#draining !== undefined) await this.#draining
  }

  #linger(): void {
    if (this.#draining !== undefined || this.#lingering !== undefined) return
    this.#lingering = setTimeout(() => this.kick(), LINGER_MS)
  }

  async #drain(): Promise<void> {
    try {
      // Let calls made in the same tick join the first batch.
      await Promise.resolve()
      for (;;) {
        this.#options.between?.(this.#queue.length)
        if (this.#queue.length === 0) break
        await this.#options.commit(this.#queue.splice(0))
      }
    } finally {
      // In the same step as the last look at the queue: a call queued after it starts a new drain.
      this.#draining = undefined
    }
  }
}
