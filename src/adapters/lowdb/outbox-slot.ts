/**
 * The compact record the outbox index keeps of each message, and the
 * message shape callers see. The index holds every finished message of the
 * retention, so it keeps little of each: one flat record (`Slot`, about 450
 * bytes with its map entries against 730 before, measured with 10k
 * messages) whose account, status and segment strings are shared, and which
 * serves as its own sort key.
 */
import { isFinished, MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../domain/mail/record.ts'
import type { OrderKey } from './sorted.ts'

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
  /** The API key that accepted it, for `list` by key. */
  apiKeyId?: string
  /** Version number of the current state (see `StoredVersion`). */
  seq: number
  /**
   * Unfinished messages are kept whole (the snapshot holds them anyway);
   * finished ones too until the next compaction writes them to the history
   * (`journal`: only the journal holds them on disk), then they point into it.
   */
  place:
    | { kind: 'live'; entry: OutboxEntry }
    | { kind: 'journal'; entry: OutboxEntry }
    | ({ kind: 'history' } & HistoryLocation)
}

/**
 * What the index keeps of a message: one flat object of a single shape
 * (fields never added or removed), also used as its key in the sorted
 * arrays and the idempotency map.
 */
export interface Slot extends OrderKey {
  account: string
  status: MailStatus
  updatedAt: number
  sentAt: number | undefined
  idempotencyKey: string | undefined
  /** Shared like `account`: one string per key id. */
  apiKeyId: string | undefined
  seq: number
  /** Set while unfinished, or finished but not yet in the history. */
  entry: OutboxEntry | undefined
  /** Set once in the history. */
  segment: string | undefined
  offset: number
  length: number
}

/** Makes slots, keeping one copy of each account and segment name, shared by every slot it makes. */
export class SlotMaker {
  readonly #names = new Map<string, string>()

  slotOf(message: IndexedMessage): Slot {
    const history = message.place.kind === 'history' ? message.place : undefined
    return {
      createdAt: message.createdAt,
      id: message.id,
      account: this.#shared(message.account),
      status: MAIL_STATUSES.find((status) => status === message.status) ?? message.status,
      updatedAt: message.updatedAt,
      sentAt: message.sentAt,
      idempotencyKey: message.idempotencyKey,
      apiKeyId: message.apiKeyId === undefined ? undefined : this.#shared(message.apiKeyId),
      seq: message.seq,
      entry: message.place.kind === 'history' ? undefined : message.place.entry,
      segment: history === undefined ? undefined : this.#shared(history.segment),
      offset: history?.offset ?? 0,
      length: history?.length ?? 0,
    }
  }

  #shared(name: string): string {
    const known = this.#names.get(name)
    if (known !== undefined) return known
    this.#names.set(name, name)
    return name
  }
}

/** The message as callers see it (made on each lookup; the slot stays flat). */
export function messageOf(slot: Slot): IndexedMessage {
  const place: IndexedMessage['place'] =
    slot.entry === undefined
      ? { kind: 'history', segment: slot.segment!, offset: slot.offset, length: slot.length }
      : { kind: isFinished(slot.status) ? 'journal' : 'live', entry: slot.entry }
  return indexedMessage(slot, slot.seq, place)
}

/** The index entry of an entry, at `place`. */
export function indexedMessage(
  entry: Pick<OutboxEntry, 'id' | 'account' | 'status' | 'createdAt' | 'updatedAt'> & {
    sentAt?: number | undefined
    idempotencyKey?: string | undefined
    apiKeyId?: string | undefined
  },
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
  if (entry.apiKeyId !== undefined) message.apiKeyId = entry.apiKeyId
  return message
}
