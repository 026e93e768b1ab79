/**
 * Raw composed messages as their own files, `messages/<id>.eml` (0600):
 * written and fsynced before the outbox records them, so that a recorded
 * message always has its bytes, and a body never inflates the outbox files.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { badRequest, ServiceError } from '../../domain/errors.ts'
import { fsyncDirectory, isNotFound, removeFile, writeFileReplacing } from './fs-durable.ts'

export const MESSAGES_FOLDER = 'messages'
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

/** Refuses ids that cannot be file names as they are (path separators, dot files). */
export function assertStorableId(id: string): void {
  if (!SAFE_ID.test(id))
    throw badRequest('The message id cannot be stored', [{ path: 'id', message: 'Not a safe file name' }])
}

export class MessageBodies {
  readonly #folder: string

  constructor(folder: string) {
    this.#folder = folder
  }

  /** Stores every body durably (one folder sync for all), or none: on failure the written ones are removed. */
  async writeAll(messages: ReadonlyArray<{ id: string; raw: Uint8Array }>): Promise<void> {
    try {
      // Every write settles before any cleanup, so a late one cannot leave its body behind.
      const writes = await Promise.allSettled(
        messages.map((message) => writeFileReplacing(this.#pathOf(message.id), message.raw)),
      )
      const failed = writes.find((write) => write.status === 'rejected')
      if (failed) throw failed.reason
      await fsyncDirectory(this.#folder)
    } catch (cause) {
      await this.remove(messages.map((message) => message.id))
      throw new ServiceError('STORAGE', 'The message bodies could not be stored', { cause, retryable: true })
    }
  }

  async read(id: string): Promise<Uint8Array> {
    if (!SAFE_ID.test(id)) throw notFound()
    try {
      return new Uint8Array(await readFile(this.#pathOf(id)))
    } catch (cause) {
      if (isNotFound(cause)) throw notFound()
      throw new ServiceError('STORAGE', 'The message body could not be read', { cause })
    }
  }

  /**
   * Best effort: a body left behind (crash, full disk) is found again by
   * `removeUnneeded` on the next open.
   */
  async remove(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => removeFile(this.#pathOf(id)).catch(() => {})))
  }

  /** Removes interrupted writes and the bodies of messages that no longer need one. */
  async removeUnneeded(isNeeded: (id: string) => boolean): Promise<number> {
    let removed = 0
    for (const name of await readdir(this.#folder)) {
      const unneeded = name.endsWith('.tmp') || (name.endsWith('.eml') && !isNeeded(name.slice(0, -4)))
      if (unneeded) {
        await removeFile(join(this.#folder, name))
        removed += 1
      }
    }
    return removed
  }

  #pathOf(id: string): string {
    return join(this.#folder, `${id}.eml`)
  }
}

function notFound(): ServiceError {
  return new ServiceError('NOT_FOUND', 'The message body is gone')
}
