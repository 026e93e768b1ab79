import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isServiceError, type ServiceError } from '../../../src/domain/errors.ts'
import { ATTEMPT_LOG_LIMIT } from '../../../src/domain/mail/attempt-log.ts'
import { MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../../src/domain/mail/record.ts'
import {
  accept,
  canMove,
  MAIL_EVENT_TYPES,
  type MailEvent,
  type MailEventType,
  type NewEntry,
  REAUTHORIZATION_ERROR,
  TRANSITIONS,
  transition,
} from '../../../src/domain/mail/transition.ts'

const T0 = Date.UTC(2025, 0, 1)
const ERROR = { code: 'GMAIL_UNAVAILABLE', message: 'Gmail answered 503' }

const draft: NewEntry = {
  id: 'm1',
  account: 'a@example.com',
  from: 'a@example.com',
  to: ['b@example.com'],
  cc: [],
  bcc: [],
  subject: 'Hi',
  size: 10,
  messageId: '<m1@example.com>',
}

/** An entry in `status`, with the fields a message there may carry. */
function entryIn(status: MailStatus, extra: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    ...accept(draft, { type: 'accept', at: T0, accountConnected: true }),
    status,
    attempts: 1,
    attemptLog: [{ at: T0 + 1, outcome: 'retry', error: ERROR }],
    ...extra,
  }
}

/** One event of each type, for the table-driven cases. */
function sample(type: MailEventType): MailEvent {
  const at = T0 + 5_000
  switch (type) {
    case 'accept':
      return { type, at, accountConnected: true }
    case 'sent':
      return { type, at, gmailMessageId: 'g1', gmailThreadId: 't1' }
    case 'retryLater':
      return { type, at, error: ERROR, nextAttemptAt: at + 1_000 }
    case 'holdAfterFailure':
    case 'fail':
      return { type, at, error: ERROR }
    case 'release':
      return { type, at }
    case 'adminRetry':
      return { type, at, held: false }
    case 'lease':
      // Due (entryIn sets no send time) and, when sending, unleased.
      return { type, at, owner: 'replica-a', until: at + 30_000 }
    case 'unlease':
      return { type, nextAttemptAt: at + 60_000 }
    default:
      return { type }
  }
}

function refused(run: () => unknown): ServiceError {
  try {
    run()
  } catch (caught) {
    if (isServiceError(caught)) return caught
    throw caught
  }
  throw new Error('expected a refusal')
}

describe('the table', () => {
  it('lets each status move only on these events (sent and canceled are final)', () => {
    const outgoing = Object.fromEntries(
      MAIL_STATUSES.map((status) => [status, MAIL_EVENT_TYPES.filter((type) => canMove(status, type))]),
    )
    expect(outgoing).toEqual({
      queued: ['claim', 'lease', 'hold', 'cancel'],
      scheduled: ['due', 'claim', 'lease', 'hold', 'cancel'],
      sending: ['lease', 'unlease', 'sent', 'retryLater', 'holdAfterFailure', 'fail', 'resume'],
      sent: [],
      held: ['release', 'cancel'],
      failed: ['adminRetry'],
      canceled: [],
    })
  })

  it('starts a message queued, scheduled or held', () => {
    expect(TRANSITIONS.accept.to).toEqual(['queued', 'scheduled', 'held'])
  })
})

describe('accept', () => {
  it('queues a message whose account can send', () => {
    const entry = accept(draft, { type: 'accept', at: T0, accountConnected: true })
    expect(entry).toEqual({
      ...draft,
      status: 'queued',
      createdAt: T0,
      updatedAt: T0,
      attempts: 0,
      attemptLog: [],
    })
  })

  it('holds a message whose account needs reauthorization, and says why', () => {
    const entry = accept(draft, { type: 'accept', at: T0, accountConnected: false })
    expect(entry.status).toBe('held')
    expect(entry.error).toEqual(REAUTHORIZATION_ERROR)
  })

  it('schedules a later message, whatever its account', () => {
    const entry = accept(draft, { type: 'accept', at: T0, sendAt: T0 + 60_000, accountConnected: false })
    expect(entry).toMatchObject({ status: 'scheduled', sendAt: T0 + 60_000 })
    expect(entry).not.toHaveProperty('error')
  })

  it('queues a message whose send time is not later, without keeping that time', () => {
    const entry = accept(draft, { type: 'accept', at: T0, sendAt: T0, accountConnected: true })
    expect(entry.status).toBe('queued')
    expect(entry).not.toHaveProperty('sendAt')
  })
})

describe('every legal move', () => {
  const pairs = MAIL_EVENT_TYPES.flatMap((type) => TRANSITIONS[type].from.map((status) => ({ type, status })))

  it.each(pairs)('$type from $status ends in a status the table names', ({ type, status }) => {
    const next = transition(entryIn(status), sample(type))
    expect(TRANSITIONS[type].to).toContain(next.status)
  })

  it('claims: sending, one more attempt, no wait', () => {
    const next = transition(entryIn('queued', { nextAttemptAt: T0 + 9 }), { type: 'claim' })
    expect(next).toMatchObject({ status: 'sending', attempts: 2 })
    expect(next).not.toHaveProperty('nextAttemptAt')
    expect(transition(entryIn('scheduled'), { type: 'claim' }).status).toBe('sending')
  })

  it('leases: sending under the owner until the lease ends, one more attempt', () => {
    const next = transition(entryIn('queued', { nextAttemptAt: T0 + 9 }), {
      type: 'lease',
      at: T0 + 10,
      owner: 'r1',
      until: T0 + 30_010,
    })
    expect(next).toMatchObject({ status: 'sending', attempts: 2, claim: { owner: 'r1', until: T0 + 30_010 } })
    expect(next).not.toHaveProperty('nextAttemptAt')
  })

  it('refuses a lease before the message is due, and while another replica holds it', () => {
    const early = refused(() =>
      transition(entryIn('scheduled', { sendAt: T0 + 100 }), {
        type: 'lease',
        at: T0,
        owner: 'r1',
        until: T0 + 9,
      }),
    )
    expect(early.message).toMatch(/not due yet/)
    const held = entryIn('sending', { claim: { owner: 'r1', until: T0 + 1_000 } })
    const taken = refused(() =>
      transition(held, { type: 'lease', at: T0 + 999, owner: 'r2', until: T0 + 9_000 }),
    )
    expect(taken).toMatchObject({ code: 'CONFLICT' })
    expect(taken.message).toMatch(/another replica/)
  })

  it('takes over an expired lease: the new owner, the attempt counted again', () => {
    const held = entryIn('sending', { claim: { owner: 'r1', until: T0 + 1_000 } })
    const next = transition(held, { type: 'lease', at: T0 + 1_000, owner: 'r2', until: T0 + 9_000 })
    expect(next).toMatchObject({ status: 'sending', attempts: 2, claim: { owner: 'r2' } })
  })

  it('ends the claim with the attempt: every outcome drops it', () => {
    const held = entryIn('sending', { claim: { owner: 'r1', until: T0 + 1_000 } })
    for (const type of ['sent', 'retryLater', 'holdAfterFailure', 'fail', 'resume', 'unlease'] as const) {
      expect(transition(held, sample(type))).not.toHaveProperty('claim')
    }
  })

  it('gives a claim back unattempted: queued until the given time, the attempt not counted', () => {
    const held = entryIn('sending', { claim: { owner: 'r1', until: T0 + 1_000 } })
    const next = transition(held, { type: 'unlease', nextAttemptAt: T0 + 50 })
    expect(next).toMatchObject({ status: 'queued', attempts: 0, nextAttemptAt: T0 + 50 })
  })

  it('comes due: a scheduled message joins the queue, its time kept', () => {
    const next = transition(entryIn('scheduled', { sendAt: T0 + 7 }), { type: 'due' })
    expect(next).toMatchObject({ status: 'queued', sendAt: T0 + 7 })
  })

  it('is sent: time, Gmail ids, no error, a `sent` line in the log', () => {
    const next = transition(entryIn('sending', { error: ERROR }), sample('sent'))
    expect(next).toMatchObject({
      status: 'sent',
      sentAt: T0 + 5_000,
      gmailMessageId: 'g1',
      gmailThreadId: 't1',
    })
    expect(next).not.toHaveProperty('error')
    expect(next.attemptLog.at(-1)).toEqual({ at: T0 + 5_000, outcome: 'sent' })
    expect(next.attempts).toBe(1)
  })

  it('retries later: queued until the given time, the error recorded', () => {
    const next = transition(entryIn('sending'), sample('retryLater'))
    expect(next).toMatchObject({ status: 'queued', nextAttemptAt: T0 + 6_000, error: ERROR })
    expect(next.attemptLog.at(-1)).toEqual({ at: T0 + 5_000, outcome: 'retry', error: ERROR })
  })

  it('retries at once when no time is given', () => {
    const next = transition(entryIn('sending', { nextAttemptAt: T0 }), {
      type: 'retryLater',
      at: T0,
      error: ERROR,
    })
    expect(next.status).toBe('queued')
    expect(next).not.toHaveProperty('nextAttemptAt')
  })

  it('is held after a failure: held, the error recorded', () => {
    const next = transition(entryIn('sending'), sample('holdAfterFailure'))
    expect(next).toMatchObject({ status: 'held', error: ERROR })
    expect(next.attemptLog.at(-1)).toEqual({ at: T0 + 5_000, outcome: 'held', error: ERROR })
  })

  it('fails: failed, the error recorded', () => {
    const next = transition(entryIn('sending'), sample('fail'))
    expect(next).toMatchObject({ status: 'failed', error: ERROR })
    expect(next.attemptLog.at(-1)).toEqual({ at: T0 + 5_000, outcome: 'failed', error: ERROR })
  })

  it('is held with its account: the reason given unless an attempt said more, no wait, no log line', () => {
    const bare = transition(entryIn('queued', { nextAttemptAt: T0 + 9 }), { type: 'hold' })
    expect(bare).toMatchObject({ status: 'held', error: REAUTHORIZATION_ERROR })
    expect(bare).not.toHaveProperty('nextAttemptAt')
    expect(bare.attemptLog).toHaveLength(1)
    expect(transition(entryIn('scheduled', { error: ERROR }), { type: 'hold' }).error).toEqual(ERROR)
  })

  it('is released: queued at once, a `released` line in the log', () => {
    const next = transition(entryIn('held', { nextAttemptAt: T0 + 9, error: ERROR }), sample('release'))
    expect(next).toMatchObject({ status: 'queued', error: ERROR })
    expect(next).not.toHaveProperty('nextAttemptAt')
    expect(next.attemptLog.at(-1)).toEqual({ at: T0 + 5_000, outcome: 'released' })
  })

  it.each(['queued', 'scheduled', 'held'] as const)('is canceled from %s, its wait dropped', (status) => {
    const next = transition(entryIn(status, { nextAttemptAt: T0 + 9 }), { type: 'cancel' })
    expect(next.status).toBe('canceled')
    expect(next).not.toHaveProperty('nextAttemptAt')
    expect(next.attemptLog).toHaveLength(1)
  })

  it.each([
    [false, 'queued'],
    [true, 'held'],
  ] as const)('is retried by an admin (account held: %s): %s, released, its error kept', (held, status) => {
    const next = transition(entryIn('failed', { error: ERROR }), { type: 'adminRetry', at: T0 + 5, held })
    expect(next).toMatchObject({ status, error: ERROR, attempts: 1 })
    expect(next.attemptLog.at(-1)).toEqual({ at: T0 + 5, outcome: 'released' })
  })

  it('resumes after a stop: queued, nothing else changed', () => {
    const before = entryIn('sending', { error: ERROR })
    expect(transition(before, { type: 'resume' })).toEqual({ ...before, status: 'queued' })
  })

  it('never changes the entry given, and returns a new log', () => {
    for (const { type, status } of pairs) {
      const before = entryIn(status, { nextAttemptAt: T0 + 9, error: ERROR })
      const copy = structuredClone(before)
      const next = transition(before, sample(type))
      expect(before).toEqual(copy)
      expect(next.attemptLog).not.toBe(before.attemptLog)
    }
  })

  it('keeps the first attempt and the latest ones in the log', () => {
    let entry = entryIn('held', { attemptLog: [{ at: T0, outcome: 'held', error: ERROR }] })
    for (let i = 1; i <= ATTEMPT_LOG_LIMIT + 10; i++) {
      entry = transition(transition(entry, { type: 'release', at: T0 + i }), { type: 'hold' })
    }
    expect(entry.attemptLog).toHaveLength(ATTEMPT_LOG_LIMIT)
    expect(entry.attemptLog[0]).toEqual({ at: T0, outcome: 'held', error: ERROR })
    expect(entry.attemptLog.at(-1)).toEqual({ at: T0 + ATTEMPT_LOG_LIMIT + 10, outcome: 'released' })
  })
})

describe('every illegal move', () => {
  const pairs = MAIL_EVENT_TYPES.flatMap((type) =>
    MAIL_STATUSES.filter((status) => !TRANSITIONS[type].from.includes(status)).map((status) => ({
      type,
      status,
    })),
  )

  it('is generated from the table (none forgotten)', () => {
    const legal = MAIL_EVENT_TYPES.reduce((sum, type) => sum + TRANSITIONS[type].from.length, 0)
    expect(pairs.length + legal).toBe(MAIL_EVENT_TYPES.length * MAIL_STATUSES.length)
  })

  it.each(pairs)('$type from $status is refused, saying what', ({ type, status }) => {
    const error = refused(() => transition(entryIn(status), sample(type)))
    const move = TRANSITIONS[type]
    expect(error.code).toBe(move.refusedWith)
    const named = status === 'sending' && type !== 'adminRetry' ? 'being sent' : status
    expect(error.message).toMatch(new RegExp(`^The message is ${named}; only a .+ message can ${move.can}$`))
    for (const allowed of move.from) expect(error.message).toContain(allowed)
  })

  // The API's answers, as they were before the table.
  it.each([
    ['sending', 'The message is being sent; only a queued, scheduled or held message can be canceled'],
    ['sent', 'The message is sent; only a queued, scheduled or held message can be canceled'],
    ['failed', 'The message is failed; only a queued, scheduled or held message can be canceled'],
    ['canceled', 'The message is canceled; only a queued, scheduled or held message can be canceled'],
  ] as const)('cancel of a %s message: %s', (status, sentence) => {
    const error = refused(() => transition(entryIn(status), { type: 'cancel' }))
    expect([error.code, error.message]).toEqual(['BAD_REQUEST', sentence])
  })

  it.each(['queued', 'scheduled', 'sending', 'sent', 'held', 'canceled'] as const)(
    'admin retry of a %s message is refused as a bad request',
    (status) => {
      const error = refused(() => transition(entryIn(status), sample('adminRetry')))
      expect([error.code, error.message]).toEqual([
        'BAD_REQUEST',
        `The message is ${status}; only a failed message can be retried`,
      ])
    },
  )

  it('accept of an existing message is refused', () => {
    const error = refused(() => transition(entryIn('queued'), sample('accept')))
    expect(error.message).toBe('The message is queued; only a new message can be accepted')
  })
})

const anyError = fc.record({ code: fc.constantFrom('NETWORK', 'GMAIL_REJECTED'), message: fc.string() })
const anyAt = fc.integer({ min: T0, max: T0 + 86_400_000 })
const anyEvent: fc.Arbitrary<MailEvent> = fc.oneof(
  fc.record({ type: fc.constant('accept'), at: anyAt, accountConnected: fc.boolean() }),
  fc.constantFrom<MailEvent>(
    { type: 'due' },
    { type: 'claim' },
    { type: 'hold' },
    { type: 'cancel' },
    { type: 'resume' },
  ),
  fc.record({
    type: fc.constant('sent'),
    at: anyAt,
    gmailMessageId: fc.string(),
    gmailThreadId: fc.string(),
  }),
  fc.record(
    { type: fc.constant('retryLater'), at: anyAt, error: anyError, nextAttemptAt: anyAt },
    { requiredKeys: ['type', 'at', 'error'] },
  ),
  fc.record({ type: fc.constantFrom('holdAfterFailure', 'fail'), at: anyAt, error: anyError }),
  fc.record({ type: fc.constant('release'), at: anyAt }),
  fc.record({ type: fc.constant('adminRetry'), at: anyAt, held: fc.boolean() }),
) as fc.Arbitrary<MailEvent>

describe('any sequence of events from a new message', () => {
  it('moves only as the table allows, and final statuses take no event', () => {
    fc.assert(
      fc.property(
        fc.option(anyAt, { nil: undefined }),
        fc.boolean(),
        fc.array(anyEvent, { maxLength: 40 }),
        (sendAt, accountConnected, events) => {
          let entry = accept(draft, { type: 'accept', at: T0, sendAt, accountConnected })
          expect(TRANSITIONS.accept.to).toContain(entry.status)
          let claims = 0
          for (const event of events) {
            const before = entry.status
            const allowed = TRANSITIONS[event.type].from.includes(before)
            if (!allowed) {
              expect(refused(() => transition(entry, event)).code).toBe(TRANSITIONS[event.type].refusedWith)
              continue
            }
            // A final status is left by no event at all.
            expect(['sent', 'canceled']).not.toContain(before)
            entry = transition(entry, event)
            if (event.type === 'claim') claims += 1
            expect(TRANSITIONS[event.type].to).toContain(entry.status)
            expect(entry.attempts).toBe(claims)
            expect(entry.sentAt !== undefined).toBe(entry.status === 'sent')
            if (entry.nextAttemptAt !== undefined) expect(entry.status).toBe('queued')
            expect(entry.attemptLog.length).toBeLessThanOrEqual(ATTEMPT_LOG_LIMIT)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
