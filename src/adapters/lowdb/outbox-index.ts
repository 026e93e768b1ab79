/**
 * The outbox's in-memory indexes, rebuilt on open: by id, the order of
 * `list` (overall and per status), idempotency keys, send times per account
 * and which history segment holds which message. Each change touches a few
 * sorted arrays near their end, whatever the size of the history.
 */
import { MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../domain/mail/record.ts'
import {
  compareNumbers,
  compareOrderKeys,
  insertSorted,
  lowerBound,
  type OrderKey,
  removeSorted,
} from './sorted.ts'

/** Where a finished version sits in the history: a byte range of one segment file. */
export interface HistoryLocation {
  segment: string
  offset: number
  length: number
}

/** What the store knows of a message without reading a file. */
export interface IndexedMessage {
  id: string
  account: string
  status: MailStatus
  createdAt: number
  updatedAt: number
  sentAt?: number
  idempotencyKey?: string
  /** Version number of the current state (see `StoredVersion`). */
  seq: number
  /** Unfinished messages are kept whole (the live file holds them anyway); finished ones point into history. */
  place: { kind: 'live'; entry: OutboxEntry } | ({ kind: 'history' } & HistoryLocation)
}

export class OutboxIndex {
  readonly #messages = new Map<string, IndexedMessage>()
  readonly #all: OrderKey[] = []
  readonly #byStatus = new Map<MailStatus, OrderKey[]>(MAIL_STATUSES.map((status) => [status, []]))
  readonly #idempotency = new Map<string, OrderKey>()
  readonly #sentTimes = new Map<string, number[]>()
  readonly #segments = new Map<string, Set<string>>()

  /** Builds the index in one pass, sorting once rather than inserting one by one. */
  static build(messages: Iterable<IndexedMessage>): OutboxIndex {
    const index = new OutboxIndex()
    for (const message of messages) index.#add(message, false)
    index.#all.sort(compareOrderKeys)
    for (const keys of index.#byStatus.values()) keys.sort(compareOrderKeys)
    for (const times of index.#sentTimes.values()) times.sort(compareNumbers)
    return index
  }

  get size(): number {
    return this.#messages.size
  }

  get(id: string): IndexedMessage | undefined {
    return this.#messages.get(id)
  }

  /** Inserts or replaces the message. */
  put(message: IndexedMessage): void {
    this.delete(message.id)
    this.#add(message, true)
  }

  delete(id: string): void {
    const message = this.#messages.get(id)
    if (message === undefined) return
    this.#messages.delete(id)
    const key = { createdAt: message.createdAt, id }
    removeSorted(this.#all, key, compareOrderKeys)
    removeSorted(this.#byStatus.get(message.status)!, key, compareOrderKeys)
    if (message.idempotencyKey !== undefined && this.#idempotency.get(message.idempotencyKey)?.id === id) {
      this.#idempotency.delete(message.idempotencyKey)
    }
    if (message.status === 'sent' && message.sentAt !== undefined) {
      const times = this.#sentTimes.get(message.account)
      if (times !== undefined) removeSorted(times, message.sentAt, compareNumbers)
    }
    if (message.place.kind === 'history') this.#segments.get(message.place.segment)?.delete(id)
  }

  /** Newest first, strictly before `before`; `more` says whether older items remain. */
  page(
    status: MailStatus | undefined,
    limit: number,
    before: OrderKey | undefined,
  ): { items: IndexedMessage[]; more: boolean } {
    const keys = status === undefined ? this.#all : this.#byStatus.get(status)!
    let position = (before === undefined ? keys.length : lowerBound(keys, before, compareOrderKeys)) - 1
    const items: IndexedMessage[] = []
    while (position >= 0 && items.length < limit) {
      items.push(this.#messages.get(keys[position]!.id)!)
      position -= 1
    }
    return { items, more: position >= 0 }
  }

  /** Messages in these statuses, oldest first. */
  inStatuses(statuses: readonly MailStatus[]): IndexedMessage[] {
    const keys = statuses.flatMap((status) => this.#byStatus.get(status)!)
    keys.sort(compareOrderKeys)
    return keys.map((key) => this.#messages.get(key.id)!)
  }

  countByStatus(): Record<MailStatus, number> {
    const counts = {} as Record<MailStatus, number>
    for (const [status, keys] of this.#byStatus) counts[status] = keys.length
    return counts
  }

  /** The newest message carrying `key`, if created at or after `since`. */
  idempotent(key: string, since: number): string | undefined {
    const found = this.#idempotency.get(key)
    return found !== undefined && found.createdAt >= since ? found.id : undefined
  }

  sentSince(account: string, since: number): number[] {
    const times = this.#sentTimes.get(account) ?? []
    return times.slice(lowerBound(times, since, compareNumbers))
  }

  /** Ids whose current version is in `segment`. */
  membersOf(segment: string): ReadonlySet<string> {
    return this.#segments.get(segment) ?? new Set()
  }

  #add(message: IndexedMessage, keepSorted: boolean): void {
    this.#messages.set(message.id, message)
    const key = { createdAt: message.createdAt, id: message.id }
    const add = <T>(items: T[], item: T, compare: (left: T, right: T) => number): void => {
      if (keepSorted) insertSorted(items, item, compare)
      else items.push(item)
    }
    add(this.#all, key, compareOrderKeys)
    add(this.#byStatus.get(message.status)!, key, compareOrderKeys)
    if (message.idempotencyKey !== undefined) {
      const known = this.#idempotency.get(message.idempotencyKey)
      if (known === undefined || compareOrderKeys(known, key) <= 0)
        this.#idempotency.set(message.idempotencyKey, key)
    }
    if (message.status === 'sent' && message.sentAt !== undefined) {
      let times = this.#sentTimes.get(message.account)
      if (times === undefined) {
        times = []
        this.#sentTimes.set(message.account, times)
      }
      add(times, message.sentAt, compareNumbers)
    }
    if (message.place.kind === 'history') {
      let members = this.#segments.get(message.place.segment)
      if (members === undefined) {
        members = new Set()
        this.#segments.set(message.place.segment, members)
      }
      members.add(message.id)
    }
  }
}

/** The index entry of an entry, at `place`. */
export function indexedMessage(
  entry: Pick<
    OutboxEntry,
    'id' | 'account' | 'status' | 'createdAt' | 'updatedAt' | 'sentAt' | 'idempotencyKey'
  >,
  seq: number,
  place: IndexedMessage['place'],
): IndexedMessage {
  const message: IndexedMessage = {
    id: entry.id,
    account: entry.account,
    status: entry.status,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
    seq,
    place,
  }
  if (entry.sentAt !== undefined) message.sentAt = entry.sentAt
  if (entry.idempotencyKey !== undefined) message.idempotencyKey = entry.idempotencyKey
  return message
}
