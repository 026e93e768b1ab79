/**
 * State kept in memory and in files, changed by batches that commit all or
 * nothing: the changes queued while one batch is on its way to disk are
 * applied together to a copy of the parts they declare, which is written
 * (group commit, one fsync for all) and only then becomes the state. A
 * failed write leaves the state as it was and rejects every change of the
 * batch; a change that throws is refused alone, before it mutates anything
 * (changes check first, then mutate).
 *
 * Readers see committed state only, never a batch under way.
 */

interface Queued<S> {
  parts: readonly (keyof S)[]
  change: (draft: S) => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

export interface BatchedStateOptions<S> {
  /** Writes the parts of `draft` the batch changed, durably. */
  save(draft: S, parts: ReadonlySet<keyof S>): Promise<void>
  /** Runs on the draft after the batch's changes, before it is saved (pruning). */
  beforeSave?(draft: S, parts: ReadonlySet<keyof S>): void
}

export class BatchedState<S extends object> {
  #state: S
  readonly #options: BatchedStateOptions<S>
  readonly #queue: Queued<S>[] = []
  #draining: Promise<void> | undefined

  constructor(initial: S, options: BatchedStateOptions<S>) {
    this.#state = initial
    this.#options = options
  }

  /** The committed state: read it, never change it. */
  get state(): S {
    return this.#state
  }

  /**
   * Applies `change` to a copy of the `parts` it may change, together with
   * the other changes queued meanwhile, and resolves with its result once
   * the batch is on disk.
   */
  run<T>(parts: readonly (keyof S)[], change: (draft: S) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ parts, change, resolve: resolve as (value: unknown) => void, reject })
      if (this.#draining === undefined) this.#draining = this.#drain()
    })
  }

  /** Resolves once every change queued so far is settled. */
  async idle(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining
  }

  async #drain(): Promise<void> {
    try {
      // Let changes issued in the same tick join the first batch.
      await Promise.resolve()
      while (this.#queue.length > 0) await this.#commitBatch()
    } finally {
      // In the same step as the last look at the queue: a change queued after it starts a new drain.
      this.#draining = undefined
    }
  }

  async #commitBatch(): Promise<void> {
    const batch = this.#queue.splice(0)
    const parts = new Set(batch.flatMap((queued) => queued.parts))
    const draft = { ...this.#state }
    for (const part of parts) draft[part] = structuredClone(this.#state[part])
    const applied: Array<{ queued: Queued<S>; value: unknown }> = []
    for (const queued of batch) {
      try {
        applied.push({ queued, value: queued.change(draft) })
      } catch (error) {
        queued.reject(error)
      }
    }
    if (applied.length === 0) return
    try {
      this.#options.beforeSave?.(draft, parts)
      await this.#options.save(draft, parts)
    } catch (error) {
      for (const { queued } of applied) queued.reject(error)
      return
    }
    this.#state = draft
    for (const { queued, value } of applied) queued.resolve(value)
  }
}
