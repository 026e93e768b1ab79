/**
 * Raw composed messages as their own files, `messages/<id>.eml` (0600):
 * bodies too large to go inline in the journal, written and fsynced before
 * the journal records them, and the bodies of messages that outlived a
 * compaction (or a stop), moved out of the journal by it, so that a
 * recorded message always has its bytes. Beside each body, `<id>.json`
 * keeps the entry as it was stored then (its envelope), so that a lost
 * `outbox.json` can be rebuilt (see `outbox-recovery.ts`).
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { badRequest, ServiceError } from '../../domain/errors.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import {
  fsyncDirectory,
  isNotFound,
  removeFile,
  type SyncCounter,
  writeFailure,
  writeFileReplacing,
} from './fs-durable.ts'

export const MESSAGES_FOLDER = 'messages'
export const BODY_SUFFIX = '.eml'
export const ENVELOPE_SUFFIX = '.json'
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

/** Refuses ids that cannot be file names as they are (path separators, dot files). */
export function assertStorableId(id: string): void {
  if (!SAFE_ID.test(id))
    throw badRequest('The message id cannot be stored', [{ path: 'id', message: 'Not a safe file name' }])
}

/** What a body must be to be sent: its recorded size and SHA-256 (hex). */
export interface ExpectedBody {
  size: number
  sha256: string
}

export class MessageBodies {
  readonly #folder: string
  readonly #counter: SyncCounter | undefined

  constructor(folder: string, counter?: SyncCounter) {
    this.#folder = folder
    this.#counter = counter
  }

  get folder(): string {
    return this.#folder
  }

  /**
   * Stores every body and its envelope durably (one folder sync for all), or
   * none: on failure the written ones are removed.
   */
  async writeAll(messages: ReadonlyArray<{ entry: OutboxEntry; raw: Uint8Array }>): Promise<void> {
    try {
      // Every write settles before any cleanup, so a late one cannot leave its body behind.
      const writes = await Promise.allSettled(
        messages.flatMap((message) => [
          writeFileReplacing(this.pathOf(message.entry.id, BODY_SUFFIX), message.raw, this.#counter),
          writeFileReplacing(
            this.pathOf(message.entry.id, ENVELOPE_SUFFIX),
            JSON.stringify(message.entry),
            this.#counter,
          ),
        ]),
      )
      const failed = writes.find((write) => write.status === 'rejected')
      if (failed) throw failed.reason
      await fsyncDirectory(this.#folder, this.#counter)
    } catch (cause) {
      await this.remove(messages.map((message) => message.entry.id))
      throw writeFailure('The message bodies could not be stored', cause)
    }
  }

  /** The body; with `expected`, only if its size and digest match (`BODY_DAMAGED` otherwise). */
  async read(id: string, expected?: ExpectedBody): Promise<Uint8Array> {
    if (!SAFE_ID.test(id)) throw notFound()
    let raw: Uint8Array
    try {
      raw = new Uint8Array(await readFile(this.pathOf(id, BODY_SUFFIX)))
    } catch (cause) {
      if (isNotFound(cause)) throw notFound()
      throw new ServiceError('STORAGE', 'The message body could not be read', { cause })
    }
    return this.check(raw, expected)
  }

  /** `raw` as it is; with `expected`, only if its size and digest match (`BODY_DAMAGED` otherwise). */
  check(raw: Uint8Array, expected?: ExpectedBody): Uint8Array {
    if (expected !== undefined) assertIntact(raw, expected)
    return raw
  }

  /**
   * Best effort: a body left behind (crash, full disk) is found again by
   * `reconcileBodies` on the next open.
   */
  async remove(ids: readonly string[]): Promise<void> {
    await Promise.all(
      ids.flatMap((id) =>
        [BODY_SUFFIX, ENVELOPE_SUFFIX].map((suffix) => removeFile(this.pathOf(id, suffix)).catch(() => {})),
      ),
    )
  }

  pathOf(id: string, suffix: string): string {
    return join(this.#folder, `${id}${suffix}`)
  }
}

function assertIntact(raw: Uint8Array, expected: ExpectedBody): void {
  if (raw.byteLength !== expected.size) {
    throw damaged(`size ${raw.byteLength}, expected ${expected.size}`)
  }
  if (createHash('sha256').update(raw).digest('hex') !== expected.sha256) {
    throw damaged(`size ${raw.byteLength} as expected, but its SHA-256 digest differs`)
  }
}

function damaged(detail: string): ServiceError {
  return new ServiceError(
    'BODY_DAMAGED',
    `The stored message body is damaged (${detail}); the message was not sent`,
  )
}

function notFound(): ServiceError {
  return new ServiceError('NOT_FOUND', 'The message body is gone')
}
