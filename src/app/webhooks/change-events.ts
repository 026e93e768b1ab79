/**
 * Webhook events derived in the process, for stores that cannot write an
 * event in the same transaction as the change it reports (lowdb: one file
 * per kind of thing, no transaction across them). The outbox's and the
 * accounts' writes are wrapped: each change that may report an event is
 * first noted in the journal (durably), then written, then its events are
 * published and the note forgotten in one step (`change-notes.ts`: the
 * caller is answered once the change is written, the publication follows;
 * a claim notes its send's outcome ahead, beside its own write). On open,
 * `reconcile` looks again at every change still noted (a crash came
 * between the change and its events), compares the subject as it is with
 * the state noted before the change, and publishes what the change implies.
 *
 * The guarantee, honestly: a change written durably has its events
 * published, once (event ids are deterministic per change, so a change
 * looked at twice is one event), unless the process dies after the change
 * and the journal is then lost or damaged. A subject changed twice while a
 * publication failed reports what its latest state implies against the
 * state noted before the first change: an intermediate state (held, then
 * sent) may be reported only by its latest event. Events go out after the
 * change is durable, never before: no event ever reports a change that did
 * not happen. With no endpoint subscribed, nothing is noted or derived.
 *
 * The rules of what reports what are `derive-events.ts`, the same as the
 * PostgreSQL triggers'.
 */
import type { Account } from '../../domain/credentials/account.ts'
import type { MailStatus, OutboxEntry } from '../../domain/mail/record.ts'
import type { MailEvent } from '../../domain/mail/transition.ts'
import type { AccountRepository, Clock, OutboxClaims, OutboxRepository } from '../../domain/ports.ts'
import type { EventType } from '../../domain/webhooks/event.ts'
import type { ChangeJournal, NotedChange } from './change-journal.ts'
import { createChangeNotes } from './change-notes.ts'
import {
  ACCOUNT_EVENT_TYPES,
  accountEvents,
  accountPrior,
  MAIL_EVENT_TYPES,
  mailEvents,
  mailEventType,
} from './derive-events.ts'

type Outbox = OutboxRepository & OutboxClaims

export interface ChangeEventsOptions {
  journal: ChangeJournal
  clock: Clock
  /** Hears of events that could not be published after their change was stored (made good later). */
  onError?: (error: unknown) => void
}

export interface ChangeEvents<O extends Outbox, A extends AccountRepository> {
  outbox: O
  accounts: A
  /** Publishes what the changes still noted imply; returns how many events. Call once on open. */
  reconcile(): Promise<number>
  /** Resolves once the events of every change written so far are published (before a close). */
  settled(): Promise<void>
}

/** The settle events that can end in a reported status, and the type they would report. */
const SETTLE_TYPES: Partial<Record<MailEvent['type'], EventType>> = {
  sent: 'mail.sent',
  fail: 'mail.failed',
  holdAfterFailure: 'mail.held',
}

/** What the outcome of a send (after a claim) may report. */
const OUTCOME_TYPES: readonly EventType[] = ['mail.sent', 'mail.failed', 'mail.held']

/** `outbox` and `accounts` whose status-writing methods publish the events they imply. */
export function withChangeEvents<O extends Outbox, A extends AccountRepository>(
  stores: { outbox: O; accounts: A },
  options: ChangeEventsOptions,
): ChangeEvents<O, A> {
  const { journal, clock } = options
  const { outbox, accounts } = stores
  const notes = createChangeNotes({
    journal,
    now: () => clock.now(),
    async implied(change) {
      if (change.kind === 'mail') {
        const entry = await outbox.get(change.id)
        return entry === undefined ? [] : mailEvents(change.prior, entry)
      }
      const account = await accounts.get(change.email)
      return account === undefined ? [] : accountEvents(change.prior, account, clock.now())
    },
    ...(options.onError ? { onError: options.onError } : {}),
  })
  const { around } = notes

  const mailNote = (id: string, prior: MailStatus | undefined): NotedChange =>
    prior === undefined ? { kind: 'mail', id } : { kind: 'mail', id, prior }

  const wrappedOutbox: Partial<Outbox> = {
    async accept(messages, acceptOptions) {
      const held = messages.filter((message) => message.entry.status === 'held')
      if (held.length === 0 || !journal.wants(['mail.held'])) return outbox.accept(messages, acceptOptions)
      return around(
        held.map((message) => mailNote(message.entry.id, undefined)),
        () => outbox.accept(messages, acceptOptions),
        async (results) => {
          const fresh = results.filter((result) => !result.replayed && result.entry.status === 'held')
          return (await Promise.all(fresh.map((result) => mailEvents(undefined, result.entry)))).flat()
        },
      )
    },

    async update(entry) {
      if (entry.status === 'sending') {
        // A claim: the send's outcome is written next. Noted now, beside this write, it need not wait for a note.
        if (journal.wants(OUTCOME_TYPES)) notes.noteAhead(mailNote(entry.id, 'sending'))
        return outbox.update(entry)
      }
      const type = mailEventType(entry.status)
      const reported = type !== undefined && journal.wants([type])
      const subject = mailNote(entry.id, undefined)
      const claimed = notes.notedAhead(subject)
      if (!reported && !claimed) return outbox.update(entry)
      // Noted ahead: nothing changed the message since its claim (a change would have taken the note over).
      const prior = claimed ? 'sending' : (await outbox.get(entry.id))?.status
      const events = reported ? await mailEvents(prior, entry) : []
      // A note taken ahead is concluded by this change, with or without an event.
      if (events.length === 0 && !notes.notedAhead(subject)) return outbox.update(entry)
      return around(
        [mailNote(entry.id, prior)],
        () => outbox.update(entry),
        async () => events,
      )
    },

    async settle(request) {
      const type = SETTLE_TYPES[request.event.type]
      if (type === undefined || !journal.wants([type])) return outbox.settle(request)
      const prior = (await outbox.get(request.id))?.status
      return around(
        [mailNote(request.id, prior)],
        () => outbox.settle(request),
        async (stored) => (stored === undefined ? [] : mailEvents(prior, stored)),
      )
    },

    async change(id, decide) {
      const before = journal.wants(MAIL_EVENT_TYPES) ? await outbox.get(id) : undefined
      if (before === undefined) return outbox.change(id, decide)
      return around(
        [mailNote(id, before.status)],
        () => outbox.change(id, decide),
        (stored) => mailEvents(before.status, stored),
      )
    },

    async changeAccount(account, statuses, decide) {
      if (!journal.wants(MAIL_EVENT_TYPES)) return outbox.changeAccount(account, statuses, decide)
      const before = new Map<string, OutboxEntry>()
      for (const entry of await outbox.pending()) {
        if (entry.account === account && statuses.includes(entry.status)) before.set(entry.id, entry)
      }
      if (before.size === 0) return outbox.changeAccount(account, statuses, decide)
      return around(
        [...before.values()].map((entry) => mailNote(entry.id, entry.status)),
        () => outbox.changeAccount(account, statuses, decide),
        async (changed) =>
          (await Promise.all(changed.map((entry) => mailEvents(before.get(entry.id)?.status, entry)))).flat(),
      )
    },
  }

  const wrappedAccounts: Partial<AccountRepository> = {
    async save(account) {
      if (!journal.wants(ACCOUNT_EVENT_TYPES)) return accounts.save(account)
      const next: Account = { ...account, email: account.email.toLowerCase() }
      const stored = await accounts.get(next.email)
      const prior = stored === undefined ? undefined : accountPrior(stored)
      const events = await accountEvents(prior, next, clock.now())
      if (events.length === 0) return accounts.save(account)
      const note: NotedChange =
        prior === undefined
          ? { kind: 'account', email: next.email }
          : { kind: 'account', email: next.email, prior }
      return around(
        [note],
        () => accounts.save(account),
        async () => events,
      )
    },
  }

  return {
    outbox: overriding(outbox, wrappedOutbox),
    accounts: overriding(accounts, wrappedAccounts),
    reconcile: notes.reconcile,
    settled: notes.settled,
  }
}

/**
 * `target` with `overrides` in place of some of its methods; everything else
 * is the target's own (methods bound to it, so that a class instance's
 * private fields keep working).
 */
function overriding<T extends object>(target: T, overrides: object): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return (overrides as Record<PropertyKey, unknown>)[property]
      const value: unknown = Reflect.get(object, property, object)
      return typeof value === 'function' ? value.bind(object) : value
    },
  })
}
