/**
 * The lowdb webhook store's deliveries file in memory, with the indexes its
 * hot paths need (a delivery by id, the pending ones in creation order),
 * changed only by the changes its log records (`BookChange`).
 *
 * `apply` depends on nothing but the data and the change (no clock, no
 * endpoints, no leases) and never throws: replaying the log on open gives
 * the state the process had, whatever it saw when it decided a change. A
 * change that no longer fits (an event already stored, a delivery already
 * finished) does nothing, here as on a replay. Pruning happens only at a
 * snapshot, so that the snapshot is exactly the state the later records
 * were applied to.
 */
import { noteKey } from '../../app/webhooks/change-journal.ts'
import { prune, type Retention, recordAttempt } from './webhook-book.ts'
import type { BookChange, DeliveriesFile, StoredDelivery, StoredEndpoint } from './webhook-files.ts'

export class Ledger {
  readonly #book: DeliveriesFile
  readonly #keep: Retention
  readonly #byId = new Map<string, StoredDelivery>()
  /** In creation order (a Map keeps insertion order): claims break ties in due time by it. */
  readonly #pending = new Map<string, StoredDelivery>()

  constructor(book: DeliveriesFile, keep: Retention) {
    this.#book = book
    this.#keep = keep
    this.#index()
  }

  /** The data: read it, never change it. */
  get book(): Readonly<DeliveriesFile> {
    return this.#book
  }

  /** Pending deliveries, in creation order. */
  pending(): IterableIterator<StoredDelivery> {
    return this.#pending.values()
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  isPending(deliveryId: string): boolean {
    return this.#pending.has(deliveryId)
  }

  /** Applies one change; returns whether it changed anything. */
  apply(change: BookChange): boolean {
    const book = this.#book
    switch (change.kind) {
      case 'add': {
        const fresh = new Set<string>()
        for (const event of change.events) {
          if (book.events[event.id] !== undefined) continue
          book.events[event.id] = event
          fresh.add(event.id)
        }
        for (const delivery of change.deliveries) {
          if (fresh.has(delivery.eventId) && !this.#byId.has(delivery.id)) this.#push(delivery)
        }
        return fresh.size > 0
      }
      case 'replay': {
        const { delivery } = change
        if (book.events[delivery.eventId] === undefined || this.#byId.has(delivery.id)) return false
        this.#push(delivery)
        return true
      }
      case 'settle': {
        const delivery = this.#pending.get(change.deliveryId)
        if (delivery === undefined) return false
        delivery.attempts += 1
        recordAttempt(book, change.attempt, this.#keep.attemptsPerEndpoint)
        if (change.done !== undefined) {
          delivery.finished = change.done
          delivery.finishedAt = change.attempt.at
          this.#pending.delete(delivery.id)
        } else if (change.retryAt !== undefined) delivery.dueAt = change.retryAt
        return true
      }
      case 'drop': {
        const before = book.deliveries.length
        book.deliveries = book.deliveries.filter(
          (delivery) =>
            delivery.endpointId !== change.endpointId ||
            (change.pendingOnly && delivery.finished !== undefined),
        )
        if (!change.pendingOnly) delete book.attempts[change.endpointId]
        if (book.deliveries.length !== before) this.#index()
        return true
      }
      case 'note':
        // A subject noted already keeps its earlier note: the state before the first change not concluded.
        for (const noted of change.changes) book.journal[noteKey(noted)] ??= noted
        return true
      case 'forget':
        for (const key of change.keys) delete book.journal[key]
        return true
    }
  }

  /** Drops what the retention no longer keeps (`webhook-book.ts` `prune`), then the data to snapshot. */
  compact(endpoints: readonly StoredEndpoint[], now: number, seq: number): DeliveriesFile {
    prune(this.#book, endpoints, now, this.#keep)
    this.#index()
    this.#book.seq = seq
    return this.#book
  }

  #push(delivery: StoredDelivery): void {
    this.#book.deliveries.push(delivery)
    this.#byId.set(delivery.id, delivery)
    if (delivery.finished === undefined) this.#pending.set(delivery.id, delivery)
  }

  #index(): void {
    this.#byId.clear()
    this.#pending.clear()
    for (const delivery of this.#book.deliveries) {
      this.#byId.set(delivery.id, delivery)
      if (delivery.finished === undefined) this.#pending.set(delivery.id, delivery)
    }
  }
}
