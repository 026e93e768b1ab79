/**
 * The life of a message as data: which event may move it from which status
 * to which (`TRANSITIONS`), and the one function that makes such a move
 * (`transition`), updating the fields that go with it. Pure: no I/O, no
 * clock (times come in the event), the entry given is never changed.
 * `updatedAt` is left to whoever stores the result.
 */
import { type ErrorCode, ServiceError } from '../errors.ts'
import { recordAttempt } from './attempt-log.ts'
import { assertClaimable } from './claim.ts'
import type { MailStatus, OutboxEntry, RecordedError } from './record.ts'

/** Why a message waits for its account, until a failed attempt says more. */
export const REAUTHORIZATION_ERROR: RecordedError = {
  code: 'REAUTHORIZATION_REQUIRED',
  message: 'The sending account needs reauthorization by an admin',
}

/** A new message: taken in, before it has a status. */
export interface AcceptEvent {
  type: 'accept'
  at: number
  /** When it should go out; a time not after `at` means now. */
  sendAt?: number | undefined
  /** Whether its account can send now; if not, the message waits held. */
  accountConnected: boolean
}

export type MailEvent =
  | AcceptEvent
  /** A scheduled message's time has come, but pacing makes it wait: it joins the queue. */
  | { type: 'due' }
  /** A delivery attempt starts (one process: the engine is the only one sending). */
  | { type: 'claim' }
  /**
   * A replica claims a due message for an attempt, with a lease until
   * `until`; also takes over a `sending` one whose lease expired (its
   * replica died mid-attempt: it may or may not have reached Gmail).
   */
  | { type: 'lease'; at: number; owner: string; until: number }
  /** A claimed message gives its claim back unattempted (the daily budget is spent, a stop): it waits. */
  | { type: 'unlease'; nextAttemptAt?: number | undefined }
  | { type: 'sent'; at: number; gmailMessageId: string; gmailThreadId: string }
  /** The attempt failed and can succeed later: at `nextAttemptAt`, or at once when absent. */
  | { type: 'retryLater'; at: number; error: RecordedError; nextAttemptAt?: number | undefined }
  /** The attempt failed for want of the account's authorization: it waits for the admin. */
  | { type: 'holdAfterFailure'; at: number; error: RecordedError }
  /** The attempt failed for good. */
  | { type: 'fail'; at: number; error: RecordedError }
  /** Its account needs reauthorization: what would go now waits, and says why. */
  | { type: 'hold' }
  /** Its account was reauthorized: it goes again. */
  | { type: 'release'; at: number }
  | { type: 'cancel' }
  /** An admin sends a failed message again: queued, or held while its account is. */
  | { type: 'adminRetry'; at: number; held: boolean }
  /** After a stop (or crash) during an attempt: it may or may not have reached Gmail; it goes again. */
  | { type: 'resume' }

export type MailEventType = MailEvent['type']

export interface Move {
  /** The statuses the event applies to; empty: only to a new message (`accept`). */
  from: readonly MailStatus[]
  to: readonly MailStatus[]
  /** The code of the refusal: a caller's request, or a step of the delivery engine out of turn. */
  refusedWith: ErrorCode
  /** What the refusal says the `from` statuses can do, after "only a … message can". */
  can: string
}

/** Every move a message can make. A status absent from every `from` is final. */
export const TRANSITIONS: { readonly [Type in MailEventType]: Move } = {
  accept: { from: [], to: ['queued', 'scheduled', 'held'], refusedWith: 'CONFLICT', can: 'be accepted' },
  due: { from: ['scheduled'], to: ['queued'], refusedWith: 'CONFLICT', can: 'come due' },
  claim: { from: ['queued', 'scheduled'], to: ['sending'], refusedWith: 'CONFLICT', can: 'be sent' },
  lease: {
    from: ['queued', 'scheduled', 'sending'],
    to: ['sending'],
    refusedWith: 'CONFLICT',
    can: 'be claimed',
  },
  unlease: { from: ['sending'], to: ['queued'], refusedWith: 'CONFLICT', can: 'give its claim back' },
  sent: { from: ['sending'], to: ['sent'], refusedWith: 'CONFLICT', can: 'be marked sent' },
  retryLater: {
    from: ['sending'],
    to: ['queued'],
    refusedWith: 'CONFLICT',
    can: 'be retried after a failed attempt',
  },
  holdAfterFailure: {
    from: ['sending'],
    to: ['held'],
    refusedWith: 'CONFLICT',
    can: 'be held after a failed attempt',
  },
  fail: { from: ['sending'], to: ['failed'], refusedWith: 'CONFLICT', can: 'fail' },
  hold: { from: ['queued', 'scheduled'], to: ['held'], refusedWith: 'CONFLICT', can: 'be held' },
  release: { from: ['held'], to: ['queued'], refusedWith: 'CONFLICT', can: 'be released' },
  cancel: {
    from: ['queued', 'scheduled', 'held'],
    to: ['canceled'],
    refusedWith: 'BAD_REQUEST',
    can: 'be canceled',
  },
  adminRetry: { from: ['failed'], to: ['queued', 'held'], refusedWith: 'BAD_REQUEST', can: 'be retried' },
  resume: { from: ['sending'], to: ['queued'], refusedWith: 'CONFLICT', can: 'be resumed' },
}

export const MAIL_EVENT_TYPES = Object.keys(TRANSITIONS) as readonly MailEventType[]

/** Whether `type` may move a message that is `status`. */
export function canMove(status: MailStatus, type: MailEventType): boolean {
  return TRANSITIONS[type].from.includes(status)
}

/**
 * The refusal of `type` for a message that is `status`, e.g. "The message is
 * sent; only a queued, scheduled or held message can be canceled".
 */
export function refusal(status: MailStatus, type: MailEventType): ServiceError {
  const move = TRANSITIONS[type]
  // The admin's retry has always named the status as it is ("is sending"); every other refusal says "being sent".
  const is = status === 'sending' && type !== 'adminRetry' ? 'being sent' : status
  const only = move.from.length === 0 ? 'only a new message' : `only a ${orList(move.from)} message`
  return new ServiceError(move.refusedWith, `The message is ${is}; ${only} can ${move.can}`)
}

/** Throws the refusal unless `type` may move a message that is `status`. */
export function assertMove(status: MailStatus, type: MailEventType): void {
  if (!canMove(status, type)) throw refusal(status, type)
}

/** The fields of a new message that acceptance does not decide. */
export type NewEntry = Omit<
  OutboxEntry,
  'status' | 'createdAt' | 'updatedAt' | 'sendAt' | 'attempts' | 'attemptLog' | 'error'
>

/**
 * A new message's first state: scheduled if `sendAt` is later, else queued
 * if its account can send, else held with the reason.
 */
export function accept(draft: NewEntry, event: AcceptEvent): OutboxEntry {
  const sendAt = event.sendAt !== undefined && event.sendAt > event.at ? event.sendAt : undefined
  const scheduled = sendAt !== undefined
  const status: MailStatus = scheduled ? 'scheduled' : event.accountConnected ? 'queued' : 'held'
  const entry: OutboxEntry = {
    ...draft,
    status,
    createdAt: event.at,
    attempts: 0,
    attemptLog: [],
    updatedAt: event.at,
  }
  if (sendAt !== undefined) entry.sendAt = sendAt
  if (status === 'held') entry.error = { ...REAUTHORIZATION_ERROR }
  return entry
}

/**
 * The message after `event`: a new entry (its attempt log a new array), or
 * the refusal thrown when the table does not allow the move.
 */
export function transition(entry: OutboxEntry, event: MailEvent): OutboxEntry {
  assertMove(entry.status, event.type)
  const next: OutboxEntry = { ...entry, attemptLog: [...entry.attemptLog] }
  // Every move but a claim ends the attempt under way, and with it any claim.
  if (event.type !== 'lease') delete next.claim
  switch (event.type) {
    case 'accept':
      // Unreachable: `accept` has no `from` status (a new message goes through `accept()`).
      throw refusal(entry.status, event.type)
    case 'due':
      next.status = 'queued'
      break
    case 'claim':
      next.status = 'sending'
      next.attempts += 1
      delete next.nextAttemptAt
      break
    case 'lease':
      assertClaimable(entry, event.at)
      next.status = 'sending'
      next.attempts += 1
      next.claim = { owner: event.owner, until: event.until }
      delete next.nextAttemptAt
      break
    case 'unlease':
      next.status = 'queued'
      next.attempts = Math.max(0, next.attempts - 1)
      delete next.claim
      if (event.nextAttemptAt === undefined) delete next.nextAttemptAt
      else next.nextAttemptAt = event.nextAttemptAt
      break
    case 'sent':
      next.status = 'sent'
      next.sentAt = event.at
      next.gmailMessageId = event.gmailMessageId
      next.gmailThreadId = event.gmailThreadId
      delete next.error
      recordAttempt(next, { at: event.at, outcome: 'sent' })
      break
    case 'retryLater':
      next.status = 'queued'
      next.error = event.error
      if (event.nextAttemptAt === undefined) delete next.nextAttemptAt
      else next.nextAttemptAt = event.nextAttemptAt
      recordAttempt(next, { at: event.at, outcome: 'retry', error: event.error })
      break
    case 'holdAfterFailure':
      next.status = 'held'
      next.error = event.error
      recordAttempt(next, { at: event.at, outcome: 'held', error: event.error })
      break
    case 'fail':
      next.status = 'failed'
      next.error = event.error
      recordAttempt(next, { at: event.at, outcome: 'failed', error: event.error })
      break
    case 'hold':
      next.status = 'held'
      next.error ??= { ...REAUTHORIZATION_ERROR }
      delete next.nextAttemptAt
      break
    case 'release':
      next.status = 'queued'
      delete next.nextAttemptAt
      recordAttempt(next, { at: event.at, outcome: 'released' })
      break
    case 'cancel':
      next.status = 'canceled'
      delete next.nextAttemptAt
      break
    case 'adminRetry':
      next.status = event.held ? 'held' : 'queued'
      delete next.nextAttemptAt
      recordAttempt(next, { at: event.at, outcome: 'released' })
      break
    case 'resume':
      next.status = 'queued'
      break
  }
  return next
}

/** "a", "a or b", "a, b or c". */
function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`
}
