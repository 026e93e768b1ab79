/**
 * The repository behind `openOutboxRepository`: every acceptance and change
 * is one record of the journal (`outbox-journal.ts`), durable before it
 * resolves and shared with whatever else arrives meanwhile (group commit);
 * the in-memory state (`outbox-state.ts`) takes it once it is on disk, and
 * the compactor (`outbox-compaction.ts`) folds the journal into the
 * snapshot and the history in the background.
 */
import { ServiceError } from '../../domain/errors.ts'
import { isFinished, type MailStatus, type OutboxEntry } from '../../domain/mail/record.ts'
import type { AcceptResult, Clock, OutboxClaims, OutboxPage, OutboxRepository } from '../../domain/ports.ts'
import { acceptResults } from '../in-process/idempotent-accept.ts'
import { inProcessClaims } from '../in-process/outbox-claims.ts'
import { isNotFound, type SyncCounter } from './fs-durable.ts'
import type { HistoryLog } from './history-log.ts'
import { type Gate, KeyedLocks } from './keyed-locks.ts'
import { assertStorableId, type MessageBodies } from './message-bodies.ts'
import type { OutboxCompactor } from './outbox-compaction.ts'
import { decodeCursor, encodeCursor } from './outbox-cursor.ts'
import { entriesOf } from './outbox-entries.ts'
import type { IndexedMessage } from './outbox-index.ts'
import type { JournalPut, OutboxJournal } from './outbox-journal.ts'
import type { OutboxState } from './outbox-state.ts'
import { sweepHistory } from './outbox-sweep.ts'

const UNFINISHED: readonly MailStatus[] = ['queued', 'scheduled', 'sending', 'held']

/** Bodies up to this size go inline in the journal record; larger ones are files of `messages/`. */
export const INLINE_BODY_MAX_BYTES = 256 * 1024

export interface OutboxStore extends OutboxRepository, OutboxClaims {
  /** Drops finished messages older than the retention, and their bodies; returns how many. */
  sweep(): Promise<number>
  /** Waits for changes in flight, folds the journal into the files at rest, then refuses new ones. */
  close(): Promise<void>
  /** How many flushes to disk (fsync, fdatasync, O_DSYNC writes) the store has asked for since it opened. */
  syncs(): number
}

export interface LowdbOutboxParts {
  state: OutboxState
  journal: OutboxJournal
  compactor: OutboxCompactor
  history: HistoryLog
  bodies: MessageBodies
  gate: Gate
  counter: SyncCounter
  clock: Clock
  retentionMs: number
  inlineBodyMaxBytes: number
}

/**
 * The outbox over its files (see `openOutboxRepository`). Changes of one
 * message run in call order; changes of different messages overlap, and
 * share their journal writes.
 */
export class LowdbOutbox implements OutboxStore {
  readonly #parts: LowdbOutboxParts
  readonly #state: OutboxState
  readonly #journal: OutboxJournal
  readonly #bodies: MessageBodies
  readonly #locks = new KeyedLocks()
  readonly #background = new Set<Promise<unknown>>()
  #closed = false

  constructor(parts: LowdbOutboxParts) {
    this.#parts = parts
    this.#state = parts.state
    this.#journal = parts.journal
    this.#bodies = parts.bodies
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
        if (this.#state.index.get(id) !== undefined) {
          throw new ServiceError('CONFLICT', `A message with id ${id} already exists`)
        }
      }
      const results = await acceptResults(messages, (key) => {
        const earlierId = this.#state.index.idempotent(key, since)
        return earlierId === undefined ? undefined : this.#read(earlierId)
      })
      const fresh = messages.filter((_, index) => !results[index]!.replayed)
      if (fresh.length === 0) return results
      // Large bodies are files, durable before the record that names them.
      const large = fresh.filter(({ raw }) => raw.byteLength > this.#parts.inlineBodyMaxBytes)
      if (large.length > 0) await this.#bodies.writeAll(large)
      const puts: JournalPut[] = fresh.map(({ entry, raw }) =>
        raw.byteLength > this.#parts.inlineBodyMaxBytes
          ? { entry: structuredClone(entry) }
          : { entry: structuredClone(entry), raw },
      )
      try {
        await this.#store(puts)
      } catch (error) {
        await this.#bodies.remove(large.map(({ entry }) => entry.id))
        throw error
      }
      return results
    })
  }

  async update(entry: OutboxEntry): Promise<void> {
    await this.#change([entry.id], () => this.#write([entry]))
  }

  now = async (): Promise<number> => this.#claims.now()
  claimDue: OutboxClaims['claimDue'] = (request) => this.#claims.claimDue(request)
  renew: OutboxClaims['renew'] = (request) => this.#claims.renew(request)
  settle: OutboxClaims['settle'] = (request) => this.#claims.settle(request)
  change: OutboxClaims['change'] = (id, decide) => this.#claims.change(id, decide)
  changeAccount: OutboxClaims['changeAccount'] = (account, statuses, decide) =>
    this.#claims.changeAccount(account, statuses, decide)
  upcoming: OutboxClaims['upcoming'] = () => this.#claims.upcoming()
  oldestDueAge = async (): Promise<number> => this.#state.index.oldestDueAge(this.#parts.clock.now())

  /** Claims over this store: its locks, its index, its clock. */
  readonly #claims: OutboxClaims = inProcessClaims({
    now: () => this.#parts.clock.now(),
    live: (account, statuses) => this.#state.index.liveEntries(account, statuses),
    read: (id) => this.#read(id),
    write: (entries) => this.#write(entries),
    locked: (ids, task) => this.#change(ids, task),
  })

  /** Stores new states of messages, as one record; the caller holds their locks. */
  async #write(entries: readonly OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return
    for (const entry of entries) {
      if (this.#state.index.get(entry.id) === undefined) {
        throw new ServiceError('NOT_FOUND', 'No message with this id')
      }
    }
    await this.#store(entries.map((entry) => ({ entry: structuredClone(entry) })))
  }

  /** Appends one record; once it is durable, the state takes its versions. */
  async #store(puts: readonly JournalPut[]): Promise<void> {
    const unneeded = await this.#journal.append(puts, (placed) => {
      const files: string[] = []
      puts.forEach((put, position) => {
        const { seq, body } = placed[position]!
        if (this.#state.apply({ seq, entry: put.entry }, body).dropFile) files.push(put.entry.id)
      })
      return files
    })
    // The change is durable; the body file of a sent or canceled message need not hold up the caller.
    if (unneeded.length > 0) this.#inBackground(this.#bodies.remove(unneeded))
  }

  /** The stored message (a copy), live or from the history, without the gate (the caller is inside it). */
  async #read(id: string): Promise<OutboxEntry | undefined> {
    const message = this.#state.index.get(id)
    return message === undefined ? undefined : (await this.#entriesOf([message]))[0]
  }

  async get(id: string): Promise<OutboxEntry | undefined> {
    const message = this.#state.index.get(id)
    if (message === undefined) return undefined
    if (message.place.kind !== 'history') return structuredClone(message.place.entry)
    // Look again inside the gate: a sweep may have moved the line meanwhile.
    return this.#parts.gate.shared(() => this.#read(id))
  }

  /** The body, checked against the size and digest its entry records (`BODY_DAMAGED` when they differ). */
  async readRaw(id: string): Promise<Uint8Array> {
    const message = this.#state.index.get(id)
    const entry = message?.place.kind === 'history' ? await this.get(id) : message?.place.entry
    const sha256 = entry?.bodySha256
    const expected = sha256 === undefined ? undefined : { size: entry!.size, sha256 }
    const place = this.#state.inline.get(id)
    const inline =
      place === undefined
        ? undefined
        : await this.#journal.readBody(place).catch((cause: unknown) => {
            // Moved to `messages/` meanwhile, and its journal file deleted: read the file.
            if (isNotFound(cause)) return undefined
            throw new ServiceError('STORAGE', 'The message body could not be read', { cause })
          })
    return inline === undefined ? this.#bodies.read(id, expected) : this.#bodies.check(inline, expected)
  }

  async list(query: {
    status?: MailStatus
    limit: number
    cursor?: string
    apiKeyId?: string
  }): Promise<OutboxPage> {
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
    return this.#parts.gate.shared(async () => {
      const limit = Math.max(0, Math.floor(query.limit))
      const { items, more } = this.#state.index.page(query.status, limit, before, query.apiKeyId)
      const page: OutboxPage = { items: await this.#entriesOf(items) }
      const last = items.at(-1)
      if (more && last !== undefined) page.nextCursor = encodeCursor(last)
      return page
    })
  }

  async pending(): Promise<OutboxEntry[]> {
    return this.#entriesOf(this.#state.index.inStatuses(UNFINISHED))
  }

  async findByIdempotencyKey(key: string, since: number): Promise<OutboxEntry | undefined> {
    const id = this.#state.index.idempotent(key, since)
    return id === undefined ? undefined : this.get(id)
  }

  async sentSince(account: string, since: number): Promise<number[]> {
    return this.#state.index.sentSince(account, since)
  }

  async countByStatus(): Promise<Record<MailStatus, number>> {
    return this.#state.index.countByStatus()
  }

  syncs(): number {
    return this.#parts.counter.count
  }

  async sweep(): Promise<number> {
    this.#assertOpen()
    // What only the journal holds goes to the history first, where retention looks.
    await this.#parts.compactor.compact('runtime')
    return this.#parts.gate.exclusive(async () => {
      this.#assertOpen()
      return sweepHistory({
        index: this.#state.index,
        history: this.#parts.history,
        bodies: {
          remove: async (ids) => {
            this.#state.forgetInline(ids)
            await this.#bodies.remove(ids)
          },
        },
        cutoff: this.#parts.clock.now() - this.#parts.retentionMs,
      })
    })
  }

  async close(): Promise<void> {
    await this.#parts.gate.exclusive(async () => {
      this.#closed = true
    })
    await Promise.all([...this.#background])
    // A stopped store is its files at rest; if the fold fails, the journal stays, still the truth.
    await this.#parts.compactor.compact('close').catch(() => {})
    await this.#journal.close()
  }

  /** Runs a change with the store open and `ids` held. */
  async #change<T>(ids: readonly string[], task: () => Promise<T>): Promise<T> {
    return this.#parts.gate.shared(async () => {
      this.#assertOpen()
      return this.#locks.run(ids, task)
    })
  }

  /** Tidy-up work that nothing waits for but `close`; its failure only leaves a stale copy behind. */
  #inBackground(work: Promise<unknown>): void {
    const tracked = work.catch(() => {}).finally(() => this.#background.delete(tracked))
    this.#background.add(tracked)
  }

  /** Full entries (copies) for indexed messages, reading finished ones from the history. */
  #entriesOf(messages: readonly IndexedMessage[]): Promise<OutboxEntry[]> {
    return entriesOf(this.#parts.history, messages)
  }

  #assertOpen(): void {
    if (this.#closed) throw new ServiceError('STORAGE', 'The outbox is closed')
  }
}
