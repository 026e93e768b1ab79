/**
 * The outbox's in-memory indexes, rebuilt on open: by id, the order of
 * `list` (overall and per status), idempotency keys, send times per account
 * and which history segment holds which message. Each change touches a few
 * sorted arrays near their end, whatever the size of the history.
 *
 * Each message is kept as one compact `Slot` (see `outbox-slot.ts`). Lookups
 * that only look back a day forget what is older than `RECENT_MS`:
 * idempotency keys (the window is 24 h) and send times (pacing counts the
 * last 24 h).
 */
import { AWAITING_SEND, dueSince, isOverdue } from '../../domain/mail/overdue.ts'
import { MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../domain/mail/record.ts'
import { type IndexedMessage, messageOf, type Slot, SlotMaker } from './outbox-slot.ts'
import {
  compareNumbers,
  compareOrderKeys,
  insertSorted,
  lowerBound,
  type OrderKey,
  removeSorted,
} from './sorted.ts'

export { type HistoryLocation, type IndexedMessage, indexedMessage } from './outbox-slot.ts'

/**
 * How far back, from the newest one, idempotency keys and send times are
 * kept: a day (the idempotency window, pacing's longest) and an hour of
 * margin for a clock that steps back.
 */
export const RECENT_MS = 25 * 3_600_000
/** Pruning waits until this much more than `RECENT_MS` is old, so that it runs in batches. */
const PRUNE_SLACK_MS = 3_600_000

export class OutboxIndex {
  readonly #messages = new Map<string, Slot>()
  readonly #all: Slot[] = []
  readonly #byStatus = new Map<MailStatus, Slot[]>(MAIL_STATUSES.map((status) => [status, []]))
  /** By key, in insertion order (about creation order), so that pruning starts at the front. */
  readonly #idempotency = new Map<string, Slot>()
  #newestKeyed = Number.NEGATIVE_INFINITY
  readonly #sentTimes = new Map<string, number[]>()
  readonly #segments = new Map<string, Set<string>>()
  readonly #slots = new SlotMaker()

  /** Builds the index in one pass, sorting once rather than inserting one by one. */
  static build(messages: Iterable<IndexedMessage>): OutboxIndex {
    const index = new OutboxIndex()
    for (const message of messages) index.#add(index.#slots.slotOf(message), false)
    index.#all.sort(compareOrderKeys)
    for (const keys of index.#byStatus.values()) keys.sort(compareOrderKeys)
    for (const times of index.#sentTimes.values()) {
      times.sort(compareNumbers)
      pruneTimes(times, 0)
    }
    index.#pruneIdempotency(0)
    return index
  }

  get size(): number {
    return this.#messages.size
  }

  get(id: string): IndexedMessage | undefined {
    const slot = this.#messages.get(id)
    return slot === undefined ? undefined : messageOf(slot)
  }

  /** Inserts or replaces the message. */
  put(message: IndexedMessage): void {
    this.delete(message.id)
    this.#add(this.#slots.slotOf(message), true)
  }

  delete(id: string): void {
    const slot = this.#messages.get(id)
    if (slot === undefined) return
    this.#messages.delete(id)
    removeSorted(this.#all, slot, compareOrderKeys)
    removeSorted(this.#byStatus.get(slot.status)!, slot, compareOrderKeys)
    if (slot.idempotencyKey !== undefined && this.#idempotency.get(slot.idempotencyKey)?.id === id) {
      this.#idempotency.delete(slot.idempotencyKey)
    }
    if (slot.status === 'sent' && slot.sentAt !== undefined) {
      const times = this.#sentTimes.get(slot.account)
      if (times !== undefined) removeSorted(times, slot.sentAt, compareNumbers)
    }
    if (slot.segment !== undefined) this.#segments.get(slot.segment)?.delete(id)
  }

  /** Newest first, strictly before `before`; `more` says whether older items remain. */
  page(
    status: MailStatus | undefined,
    limit: number,
    before: OrderKey | undefined,
    apiKeyId?: string,
  ): { items: IndexedMessage[]; more: boolean } {
    const keys: OrderKey[] = status === undefined ? this.#all : this.#byStatus.get(status)!
    let position = (before === undefined ? keys.length : lowerBound(keys, before, compareOrderKeys)) - 1
    const items: IndexedMessage[] = []
    const wanted = (slot: Slot) => apiKeyId === undefined || slot.apiKeyId === apiKeyId
    // Another key's messages are skipped in memory, never read from a file.
    while (position >= 0 && !wanted(keys[position] as Slot)) position -= 1
    while (position >= 0 && items.length < limit) {
      items.push(messageOf(keys[position] as Slot))
      position -= 1
      while (position >= 0 && !wanted(keys[position] as Slot)) position -= 1
    }
    return { items, more: position >= 0 }
  }

  /** Messages in these statuses, oldest first. */
  inStatuses(statuses: readonly MailStatus[]): IndexedMessage[] {
    const slots = statuses.flatMap((status) => this.#byStatus.get(status)!)
    slots.sort(compareOrderKeys)
    return slots.map(messageOf)
  }

  /** Copies of the live entries in these statuses, of `account` or of all, oldest first. */
  liveEntries(account: string | undefined, statuses: readonly MailStatus[]): OutboxEntry[] {
    return this.inStatuses(statuses).flatMap((message) =>
      message.place.kind === 'live' && (account === undefined || message.place.entry.account === account)
        ? [structuredClone(message.place.entry)]
        : [],
    )
  }

  countByStatus(): Record<MailStatus, number> {
    const counts = {} as Record<MailStatus, number>
    for (const [status, keys] of this.#byStatus) counts[status] = keys.length
    return counts
  }

  /**
   * Ms since the oldest message on its way out became due at `now`, 0 when
   * none is (`domain/mail/overdue.ts`). Each status's slots are in
   * acceptance order and a message is never due before its acceptance, so
   * the walk stops at the first slot accepted after the best found: usually
   * the first one.
   */
  oldestDueAge(now: number): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const status of AWAITING_SEND) {
      for (const slot of this.#byStatus.get(status)!) {
        if (slot.createdAt >= oldest) break
        if (slot.entry !== undefined && isOverdue(slot.entry, now))
          oldest = Math.min(oldest, dueSince(slot.entry))
      }
    }
    return Number.isFinite(oldest) ? now - oldest : 0
  }

  /**
   * The newest message carrying `key`, if created at or after `since`
   * (keys older than `RECENT_MS` before the newest one are forgotten).
   */
  idempotent(key: string, since: number): string | undefined {
    const found = this.#idempotency.get(key)
    return found !== undefined && found.createdAt >= since ? found.id : undefined
  }

  /** Send times of `account` at or after `since`, ascending; those older than `RECENT_MS` before its newest are forgotten. */
  sentSince(account: string, since: number): number[] {
    const times = this.#sentTimes.get(account) ?? []
    return times.slice(lowerBound(times, since, compareNumbers))
  }

  /** Ids whose current version is in `segment`. */
  membersOf(segment: string): ReadonlySet<string> {
    return this.#segments.get(segment) ?? new Set()
  }

  #add(slot: Slot, keepSorted: boolean): void {
    this.#messages.set(slot.id, slot)
    const add = <T>(items: T[], item: T, compare: (left: T, right: T) => number): void => {
      if (keepSorted) insertSorted(items, item, compare)
      else items.push(item)
    }
    add(this.#all, slot, compareOrderKeys)
    add(this.#byStatus.get(slot.status)!, slot, compareOrderKeys)
    if (slot.idempotencyKey !== undefined) {
      const known = this.#idempotency.get(slot.idempotencyKey)
      if (known === undefined || compareOrderKeys(known, slot) <= 0) {
        this.#idempotency.set(slot.idempotencyKey, slot)
        if (slot.createdAt > this.#newestKeyed) this.#newestKeyed = slot.createdAt
        if (keepSorted) this.#pruneIdempotency(PRUNE_SLACK_MS)
      }
    }
    if (slot.status === 'sent' && slot.sentAt !== undefined) {
      let times = this.#sentTimes.get(slot.account)
      if (times === undefined) {
        times = []
        this.#sentTimes.set(slot.account, times)
      }
      add(times, slot.sentAt, compareNumbers)
      if (keepSorted) pruneTimes(times, PRUNE_SLACK_MS)
    }
    if (slot.segment !== undefined) {
      let members = this.#segments.get(slot.segment)
      if (members === undefined) {
        members = new Set()
        this.#segments.set(slot.segment, members)
      }
      members.add(slot.id)
    }
  }

  /** Drops keys created `RECENT_MS` before the newest one, from the front, once the oldest is `slack` past that. */
  #pruneIdempotency(slack: number): void {
    const horizon = this.#newestKeyed - RECENT_MS
    const first = this.#idempotency.values().next()
    if (first.done === true || (slack > 0 && first.value.createdAt >= horizon - slack)) return
    for (const [key, slot] of this.#idempotency) {
      if (slot.createdAt >= horizon) {
        // Out of order (a restart indexes in file order): the rest waits for a later pass.
        if (slack > 0) break
        continue
      }
      this.#idempotency.delete(key)
      // Nothing needs it any more (only `delete` looks at it, to clean the map).
      slot.idempotencyKey = undefined
    }
  }
}

/** Drops the times `RECENT_MS` before the newest, once the oldest is `slack` past that. */
function pruneTimes(times: number[], slack: number): void {
  const newest = times.at(-1)
  if (newest === undefined || times[0]! >= newest - RECENT_MS - slack) return
  times.splice(0, lowerBound(times, newest - RECENT_MS, compareNumbers))
}
