/**
 * The repository behind `openOutboxRepository`: keeps the live file, the
 * history, the bodies and the in-memory index in step.
 */
import type { Low } from 'lowdb'
import { ServiceError } from '../../domain/errors.ts'
import { isFinished, type MailStatus, type OutboxEntry } from '../../domain/mail/record.ts'
import type { AcceptResult, Clock, OutboxClaims, OutboxPage, OutboxRepository } from '../../domain/ports.ts'
import { acceptResults } from '../in-process/idempotent-accept.ts'
import { inProcessClaims } from '../in-process/outbox-claims.ts'
import type { HistoryLog } from './history-log.ts'
import { Gate, KeyedLocks } from './keyed-locks.ts'
import { assertStorableId, type MessageBodies } from './message-bodies.ts'
import { decodeCursor, encodeCursor } from './outbox-cursor.ts'
import { entriesOf } from './outbox-entries.ts'
import { type IndexedMessage, indexedMessage, type OutboxIndex } from './outbox-index.ts'
import type { LiveFile, StoredVersion } from './outbox-schema.ts'
import { sweepHistory } from './outbox-sweep.ts'

const UNFINISHED: readonly MailStatus[] = ['queued', 'scheduled', 'sending', 'held']

export interface OutboxStore extends OutboxRepository, OutboxClaims {
  /** Drops finished messages older than the retention, and their bodies; returns how many. */
  sweep(): Promise<number>
  /** Waits for changes in flight, then refuses new ones. */
  close(): Promise<void>
}

/**
 * The outbox over its three kinds of files (see `openOutboxRepository`).
 * Changes of one message run in call order; changes of different messages
 * overlap, and their writes are group-committed.
 */
export class LowdbOutbox implements OutboxStore {
  readonly #live: Low<LiveFile>
  readonly #index: OutboxIndex
  readonly #history: HistoryLog
  readonly #bodies: MessageBodies
  readonly #clock: Clock
  readonly #retentionMs: number
  readonly #gate = new Gate()
  readonly #locks = new KeyedLocks()
  readonly #background = new Set<Promise<unknown>>()
  #nextSeq: number
  #closed = false

  constructor(parts: {
    live: Low<LiveFile>
    index: OutboxIndex
    history: HistoryLog
    bodies: MessageBodies
    nextSeq: number
    clock: Clock
    retentionMs: number
  }) {
    this.#live = parts.live
    this.#index = parts.index
    this.#history = parts.history
    this.#bodies = parts.bodies
    this.#nextSeq = parts.nextSeq
    this.#clock = parts.clock
    this.#retentionMs = parts.retentionMs
  }

  async accept(
    messages: Array<{ entry: OutboxEntry; raw: Uint8Array }>,
    options: { idempotencySince?: number } = {},
  ): Promise<AcceptResult[]> {
    const ids = messages.map((message) => message.entry.id)
    for (const message of messages) {
      assertStorableId(message.entry.id)
      if (isFinished(message.entry.status)) {
        throw new ServiceError('INTERNAL', 'Only unfinished messages can be accepted into the outbox')
      }
    }
    if (new Set(ids).size !== ids.length) throw new ServiceError('CONFLICT', 'Two messages share one id')
    if (messages.length === 0) return []
    const since = options.idempotencySince ?? Number.NEGATIVE_INFINITY
    // A key is held like a message id: two calls with one key run one after the other.
    const keys = messages.flatMap(({ entry }) =>
      entry.idempotencyKey === undefined ? [] : [`\0key:${entry.idempotencyKey}`],
    )
    return this.#change([...ids, ...keys], async () => {
      for (const id of ids) {
        if (this.#index.get(id) !== undefined || this.#live.data.entries[id] !== undefined) {
          throw new ServiceError('CONFLICT', `A message with id ${id} already exists`)
        }
      }
      const results = await acceptResults(messages, (key) => {
        const earlierId = this.#index.idempotent(key, since)
        return earlierId === undefined ? undefined : this.#read(earlierId)
      })
      const fresh = messages.filter((_, index) => !results[index]!.replayed)
      if (fresh.length === 0) return results
      const freshIds = fresh.map(({ entry }) => entry.id)
      await this.#bodies.writeAll(fresh)
      const versions = fresh.map((message) => this.#version(message.entry))
      for (const version of versions) this.#live.data.entries[version.entry.id] = version
      try {
        await this.#live.write()
      } catch (error) {
        for (const version of versions) {
          const id = version.entry.id
          if (this.#live.data.entries[id] === version) delete this.#live.data.entries[id]
        }
        await this.#bodies.remove(freshIds)
        throw error
      }
      for (const version of versions) this.#index.put(liveMessage(version))
      return results
    })
  }

  async update(entry: OutboxEntry): Promise<void> {
    await this.#change([entry.id], () => this.#write(entry))
  }

  now = async (): Promise<number> => this.#claims.now()
  claimDue: OutboxClaims['claimDue'] = (request) => this.#claims.claimDue(request)
  renew: OutboxClaims['renew'] = (request) => this.#claims.renew(request)
  settle: OutboxClaims['settle'] = (request) => this.#claims.settle(request)
  change: OutboxClaims['change'] = (id, decide) => this.#claims.change(id, decide)
  changeAccount: OutboxClaims['changeAccount'] = (account, statuses, decide) =>
    this.#claims.changeAccount(account, statuses, decide)
  upcoming: OutboxClaims['upcoming'] = () => this.#claims.upcoming()
  oldestDueAge = async (): Promise<number> => this.#index.oldestDueAge(this.#clock.now())

  /** Claims over this store: its locks, its index, its clock. */
  readonly #claims: OutboxClaims = inProcessClaims({
    now: () => this.#clock.now(),
    live: (account, statuses) => this.#index.liveEntries(account, statuses),
    read: (id) => this.#read(id),
    write: async (entries) => {
      await Promise.all(entries.map((entry) => this.#write(entry)))
    },
    locked: (ids, task) => this.#change(ids, task),
  })

  /** Stores a new state of a message; the caller holds its lock. */
  async #write(entry: OutboxEntry): Promise<void> {
    const current = this.#index.get(entry.id)
    if (current === undefined) throw new ServiceError('NOT_FOUND', 'No message with this id')
    const version = this.#version(entry)
    if (isFinished(entry.status)) await this.#finish(version, current)
    else await this.#keepLive(version)
  }

  /** The stored message (a copy), live or from the history, without the gate (the caller is inside it). */
  async #read(id: string): Promise<OutboxEntry | undefined> {
    const message = this.#index.get(id)
    return message === undefined ? undefined : (await this.#entriesOf([message]))[0]
  }

  async get(id: string): Promise<OutboxEntry | undefined> {
    const message = this.#index.get(id)
    if (message === undefined) return undefined
    if (message.place.kind === 'live') return structuredClone(message.place.entry)
    // Look again inside the gate: a sweep may have moved the line meanwhile.
    return this.#gate.shared(async () => {
      const current = this.#index.get(id)
      return current === undefined ? undefined : (await this.#entriesOf([current]))[0]
    })
  }

  /** The body, checked against the size and digest its entry records (`BODY_DAMAGED` when they differ). */
  async readRaw(id: string): Promise<Uint8Array> {
    const message = this.#index.get(id)
    const entry = message?.place.kind === 'live' ? message.place.entry : await this.get(id)
    const sha256 = entry?.bodySha256
    return this.#bodies.read(id, sha256 === undefined ? undefined : { size: entry!.size, sha256 })
  }

  async list(query: {
    status?: MailStatus
    limit: number
    cursor?: string
    apiKeyId?: string
  }): Promise<OutboxPage> {
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
    return this.#gate.shared(async () => {
      const limit = Math.max(0, Math.floor(query.limit))
      const { items, more } = this.#index.page(query.status, limit, before, query.apiKeyId)
      const page: OutboxPage = { items: await this.#entriesOf(items) }
      const last = items.at(-1)
      if (more && last !== undefined) page.nextCursor = encodeCursor(last)
      return page
    })
  }

  async pending(): Promise<OutboxEntry[]> {
    return this.#entriesOf(this.#index.inStatuses(UNFINISHED))
  }

  async findByIdempotencyKey(key: string, since: number): Promise<OutboxEntry | undefined> {
    const id = this.#index.idempotent(key, since)
    return id === undefined ? undefined : this.get(id)
  }

  async sentSince(account: string, since: number): Promise<number[]> {
    return this.#index.sentSince(account, since)
  }

  async countByStatus(): Promise<Record<MailStatus, number>> {
    return this.#index.countByStatus()
  }

  async sweep(): Promise<number> {
    return this.#gate.exclusive(async () => {
      this.#assertOpen()
      return sweepHistory({
        index: this.#index,
        history: this.#history,
        bodies: this.#bodies,
        cutoff: this.#clock.now() - this.#retentionMs,
      })
    })
  }

  async close(): Promise<void> {
    await this.#gate.exclusive(async () => {
      this.#closed = true
    })
    await Promise.all([...this.#background])
  }

  /** Runs a change with the store open and `ids` held. */
  async #change<T>(ids: readonly string[], task: () => Promise<T>): Promise<T> {
    return this.#gate.shared(async () => {
      this.#assertOpen()
      return this.#locks.run(ids, task)
    })
  }

  /** Finished: history first, then out of the live file, so a crash in between leaves the newer version. */
  async #finish(version: StoredVersion, current: IndexedMessage): Promise<void> {
    const location = await this.#history.append(version)
    const id = version.entry.id
    // The change is durable once the history line is: its newer `seq` wins on
    // open. Dropping the live copy and the body need not hold up the caller.
    if (current.place.kind === 'live' && this.#live.data.entries[id] !== undefined) {
      delete this.#live.data.entries[id]
      this.#inBackground(this.#live.write())
    }
    this.#index.put(indexedMessage(version.entry, version.seq, { kind: 'history', ...location }))
    if (version.entry.status === 'sent' || version.entry.status === 'canceled') {
      this.#inBackground(this.#bodies.remove([id]))
    }
  }

  /** Tidy-up work that nothing waits for but `close`; its failure only leaves a stale copy behind. */
  #inBackground(work: Promise<unknown>): void {
    const tracked = work.catch(() => {}).finally(() => this.#background.delete(tracked))
    this.#background.add(tracked)
  }

  async #keepLive(version: StoredVersion): Promise<void> {
    const id = version.entry.id
    const previous = this.#live.data.entries[id]
    this.#live.data.entries[id] = version
    try {
      await this.#live.write()
    } catch (error) {
      if (this.#live.data.entries[id] === version) {
        if (previous === undefined) delete this.#live.data.entries[id]
        else this.#live.data.entries[id] = previous
      }
      throw error
    }
    this.#index.put(liveMessage(version))
  }

  #version(entry: OutboxEntry): StoredVersion {
    const version = { seq: this.#nextSeq, entry: structuredClone(entry) }
    this.#nextSeq += 1
    // The next write of the live file records how far the numbering went.
    this.#live.data.seq = version.seq
    return version
  }

  /** Full entries (copies) for indexed messages, reading finished ones from the history. */
  #entriesOf(messages: readonly IndexedMessage[]): Promise<OutboxEntry[]> {
    return entriesOf(this.#history, messages)
  }

  #assertOpen(): void {
    if (this.#closed) throw new ServiceError('STORAGE', 'The outbox is closed')
  }
}

function liveMessage(version: StoredVersion): IndexedMessage {
  return indexedMessage(version.entry, version.seq, { kind: 'live', entry: version.entry })
}
