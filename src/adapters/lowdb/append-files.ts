/**
 * The files of an append-only log, one generation after the other
 * (`nameOf(gen)` in one folder): the durable write behind the lowdb
 * stores' group commits (`webhook-log.ts`, `outbox-journal.ts`). Each
 * append is one write through O_DSYNC (the data and the size durable when
 * it returns, as fdatasync: one system call and one wake-up of the event
 * loop instead of two) where the platform has it, else a write and a
 * fdatasync; a new file's name is made durable by a sync of its folder.
 *
 * A failed append is cut off the end of the file, which goes on; after a
 * failed open or sync (whose pages the kernel may have dropped), or when
 * the cut fails, the next append starts a new file. Either way nothing
 * after a failed append follows garbage, and a torn last line (a crash in
 * the middle of a write) was never acknowledged.
 */
import { constants } from 'node:fs'
import { chmod, type FileHandle, open, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import {
  fsyncDirectory,
  PRIVATE_FILE_MODE,
  removeFile,
  type SyncCounter,
  syncHandle,
  writeSynced,
} from './fs-durable.ts'

const SYNC_WRITES: number | undefined = constants.O_DSYNC
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (SYNC_WRITES ?? 0)

export interface AppendFilesOptions {
  folder: string
  nameOf(gen: number): string
  /** Generations found on disk, ascending; appends go to a new file after them. */
  generations: readonly number[]
  counter?: SyncCounter
}

/** Where an append landed: its file's generation and its first byte's offset there. */
export interface Appended {
  gen: number
  offset: number
}

export class AppendFiles {
  readonly #options: AppendFilesOptions
  /** Generations on disk, ascending (the one being appended to included). */
  readonly #generations: number[]
  #gen: number
  #handle: FileHandle | undefined
  /** Bytes acknowledged in the current file (where a failed append is cut back to). */
  #fileBytes = 0

  constructor(options: AppendFilesOptions) {
    this.#options = options
    this.#generations = [...options.generations]
    this.#gen = (options.generations.at(-1) ?? 0) + 1
  }

  /** Generations on disk, ascending. */
  get generations(): readonly number[] {
    return this.#generations
  }

  /** The generation the next append goes to. */
  get current(): number {
    return this.#gen
  }

  pathOf(gen: number): string {
    return join(this.#options.folder, this.#options.nameOf(gen))
  }

  /** Appends `bytes` durably; throws the cause as it came once the file is cut back. */
  async append(bytes: Uint8Array): Promise<Appended> {
    const { folder, counter } = this.#options
    const path = this.pathOf(this.#gen)
    let step: 'open' | 'write' | 'sync' = 'open'
    try {
      if (this.#handle === undefined) {
        this.#handle = await open(path, APPEND_FLAGS, PRIVATE_FILE_MODE)
        this.#fileBytes = 0
        this.#generations.push(this.#gen)
        await chmod(path, PRIVATE_FILE_MODE)
        // The new file's name itself must survive a power cut.
        await fsyncDirectory(folder, counter)
      }
      // A write through O_DSYNC is its own sync: what it leaves after a failure may be on disk already.
      step = SYNC_WRITES === undefined ? 'write' : 'sync'
      await writeSynced(this.#handle, bytes, SYNC_WRITES !== undefined, counter)
      step = 'sync'
      if (SYNC_WRITES === undefined) await syncHandle(this.#handle, counter, true)
      const appended = { gen: this.#gen, offset: this.#fileBytes }
      this.#fileBytes += bytes.length
      return appended
    } catch (cause) {
      await this.#afterFailure(path, step)
      throw cause
    }
  }

  /** Later appends go to a new file; returns the generation sealed, if a file was open. */
  async seal(): Promise<number | undefined> {
    const handle = this.#handle
    if (handle === undefined) return undefined
    const sealed = this.#gen
    this.#handle = undefined
    this.#gen += 1
    await handle.close().catch(() => {})
    return sealed
  }

  /** Deletes the files of `gens` (never the open one) and syncs the folder. */
  async remove(gens: readonly number[]): Promise<void> {
    const doomed = gens.filter((gen) => gen !== this.#gen || this.#handle === undefined)
    if (doomed.length === 0) return
    for (const gen of doomed) {
      await removeFile(this.pathOf(gen))
      const at = this.#generations.indexOf(gen)
      if (at !== -1) this.#generations.splice(at, 1)
    }
    await fsyncDirectory(this.#options.folder, this.#options.counter)
  }

  /** Closes the open file, if any (the files stay). */
  async close(): Promise<void> {
    await this.seal()
  }

  /**
   * Cuts a failed write off the file, which goes on; after a failed open or
   * sync, or when the cut fails, the next append starts a new file.
   */
  async #afterFailure(path: string, step: 'open' | 'write' | 'sync'): Promise<void> {
    const cut =
      this.#handle !== undefined &&
      (await truncate(path, this.#fileBytes).then(
        () => true,
        () => false,
      ))
    if (cut && step === 'write') return
    const handle = this.#handle
    this.#handle = undefined
    this.#gen += 1
    await handle?.close().catch(() => {})
  }
}
