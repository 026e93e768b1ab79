/**
 * In-process ordering of changes: per-key locks so that two changes of the
 * same message (or account) apply in call order, and a gate that lets
 * ordinary operations run together but gives compaction the store alone.
 */

/** Runs callbacks one at a time per key; different keys run concurrently. */
export class KeyedLocks {
  readonly #tails = new Map<string, Promise<void>>()

  /** Runs `task` once every earlier task holding one of `keys` is done. */
  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const earlier: Promise<void>[] = []
    for (const key of keys) {
      const tail = this.#tails.get(key)
      if (tail !== undefined) earlier.push(tail)
    }
    let release!: () => void
    const done = new Promise<void>((resolve) => {
      release = resolve
    })
    for (const key of keys) this.#tails.set(key, done)
    try {
      await Promise.all(earlier)
      return await task()
    } finally {
      release()
      for (const key of keys) if (this.#tails.get(key) === done) this.#tails.delete(key)
    }
  }
}

/** A readers-writer gate: shared tasks overlap, an exclusive task waits for them and runs alone. */
export class Gate {
  #active = 0
  #exclusive: Promise<void> | undefined
  #idle: (() => void) | undefined

  async shared<T>(task: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) await this.#exclusive
    this.#active += 1
    try {
      return await task()
    } finally {
      this.#active -= 1
      if (this.#active === 0) this.#idle?.()
    }
  }

  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    while (this.#exclusive !== undefined) await this.#exclusive
    let release!: () => void
    this.#exclusive = new Promise<void>((resolve) => {
      release = resolve
    })
    try {
      if (this.#active > 0) {
        await new Promise<void>((resolve) => {
          this.#idle = resolve
        })
      }
      return await task()
    } finally {
      this.#idle = undefined
      this.#exclusive = undefined
      release()
    }
  }
}
