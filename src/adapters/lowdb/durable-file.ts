/**
 * A lowdb `Adapter` that puts each write on disk before resolving
 * (temp file, fsync, rename, folder fsync) and groups concurrent writes into
 * one flush: lowdb's own `JSONFile` rewrites the whole file per call and never
 * fsyncs (see shared/docs/google-facts.md, "lowdb 7").
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Adapter } from 'lowdb'
import type { ZodType } from 'zod'
import { ServiceError } from '../../domain/errors.ts'
import { isNotFound, writeFailure, writeFileDurably } from './fs-durable.ts'

interface Waiter {
  resolve: () => void
  reject: (error: unknown) => void
}

/**
 * Group commit: while one flush is on its way to disk, later writes wait
 * together for the next one, which stringifies only the latest data. Every
 * promise resolves once a flush holding its data (or newer) is durable.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  readonly #path: string
  readonly #name: string
  readonly #schema: ZodType<T>
  #next: { data: T; waiters: Waiter[] } | undefined
  #draining = false
  #flushes = 0

  /** `schema` checks what is read from disk, so a hand-edited or foreign file is refused. */
  constructor(path: string, schema: ZodType<T>) {
    this.#path = path
    this.#name = basename(path)
    this.#schema = schema
  }

  /** How many times the file was rewritten: fewer than writes under concurrency. */
  get flushCount(): number {
    return this.#flushes
  }

  /** The stored data; `null` when the file does not exist yet. Never an empty store for a bad file. */
  async read(): Promise<T | null> {
    let text: string
    try {
      text = await readFile(this.#path, 'utf8')
    } catch (cause) {
      if (isNotFound(cause)) return null
      throw new ServiceError('STORAGE', `The store file ${this.#name} could not be read`, { cause })
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (cause) {
      throw new ServiceError('STORAGE', `The store file ${this.#name} is not valid JSON`, { cause })
    }
    const parsed = this.#schema.safeParse(value)
    if (!parsed.success) {
      throw new ServiceError('STORAGE', `The store file ${this.#name} does not have the expected shape`, {
        cause: parsed.error,
      })
    }
    return parsed.data
  }

  write(data: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#next === undefined) this.#next = { data, waiters: [{ resolve, reject }] }
      else {
        this.#next.data = data
        this.#next.waiters.push({ resolve, reject })
      }
      if (!this.#draining) void this.#drain()
    })
  }

  async #drain(): Promise<void> {
    this.#draining = true
    // Let writes issued in the same tick join the first flush.
    await Promise.resolve()
    while (this.#next !== undefined) {
      const batch = this.#next
      this.#next = undefined
      try {
        await writeFileDurably(this.#path, JSON.stringify(batch.data))
        this.#flushes += 1
        for (const waiter of batch.waiters) waiter.resolve()
      } catch (cause) {
        const error = writeFailure(`The store file ${this.#name} could not be written`, cause)
        for (const waiter of batch.waiters) waiter.reject(error)
        // Give the failed writers a turn to undo their in-memory changes
        // before the next flush stringifies the shared data.
        await new Promise((resolve) => setTimeout(resolve, 0))
      }
    }
    this.#draining = false
  }
}
