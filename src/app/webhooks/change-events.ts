/**
 * Webhook events derived in the process, for stores that cannot write an
 * event in the same transaction as the change it reports (lowdb: one file
 * per kind of thing, no transaction across them). The outbox's and the
 * accounts' writes are wrapped: each change that may report an event is
 * first noted in the journal (durably), then written, then its events are
 * published and the note forgotten in one step. On open, `reconcile` looks
 * again at every change still noted (a crash came between the change and
 * its events), compares the subject as it is with the state noted before
 * the change, and publishes what the change implies.
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
import type { EventType, WebhookEvent } from '../../domain/webhooks/event.ts'
import { type ChangeJournal, type NotedChange, noteKey } from './change-journal.ts'
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
}

/** The settle events that can end in a reported status, and the type they would report. */
const SETTLE_TYPES: Partial<Record<MailEvent['type'], EventType>> = {
  sent: 'mail.sent',
  fail: 'mail.failed',
  holdAfterFailure: 'mail.held',
}

/** `outbox` and `accounts` whose status-writing methods publish the events they imply. */
export function withChangeEvents<O extends Outbox, A extends AccountRepository>(
  stores: { outbox: O; accounts: A },
  options: ChangeEventsOptions,
): ChangeEvents<O, A> {
  const { journal, clock } = options
  const { outbox, accounts } = stores
  /** Keys of changes under way (a count each): a reconciliation meanwhile leaves their notes alone. */
  const inFlight = new Map<string, number>()
  /** A publication or a write failed: notes are left over, to look at before the next change. */
  let leftovers = false
  let reconciling: Promise<number> | undefined

  const reconcileNow = async (): Promise<number> => {
    const notes = journal.noted().filter((change) => !inFlight.has(noteKey(change)))
    if (notes.length === 0) return 0
    const events: WebhookEvent[] = []
    for (const change of notes) {
      if (change.kind === 'mail') {
        const entry = await outbox.get(change.id)
        if (entry !== undefined) events.push(...(await mailEvents(change.prior, entry)))
      } else {
        const account = await accounts.get(change.email)
        if (account !== undefined) events.push(...(await accountEvents(change.prior, account, clock.now())))
      }
    }
    // A change begun meanwhile on one of these subjects keeps its note: it concludes it itself.
    const keys = notes.map(noteKey).filter((key) => !inFlight.has(key))
    await journal.conclude(keys, events, clock.now())
    return events.length
  }

  const reconcile = (): Promise<number> => {
    reconciling ??= reconcileNow().finally(() => {
      reconciling = undefined
    })
    return reconciling
  }

  const catchUp = async () => {
    if (!leftovers) return
    leftovers = false
    await reconcile().catch((error: unknown) => {
      leftovers = true
      options.onError?.(error)
    })
  }

  /** Notes `changes`, runs `write`, then publishes `derive(result)` and forgets the notes. */
  const around = async <T>(
    changes: readonly NotedChange[],
    write: () => Promise<T>,
    derive: (result: T) => Promise<WebhookEvent[]>,
  ): Promise<T> => {
    await catchUp()
    const keys = changes.map(noteKey)
    for (const key of keys) inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
    const done = () => {
      const last: string[] = []
      for (const key of keys) {
        const count = (inFlight.get(key) ?? 1) - 1
        if (count === 0) {
          inFlight.delete(key)
          last.push(key)
        } else inFlight.set(key, count)
      }
      return last
    }
    let result: T
    try {
      await journal.note(changes)
      result = await write()
    } catch (error) {
      done()
      // Whether the write happened is for the next reconciliation to find out.
      leftovers = true
      throw error
    }
    let concluding = false
    try {
      const events = await derive(result)
      concluding = true
      // done() and the conclusion in one step: a change of the same subject begun after
      // done() notes it after this forgets it (the journal keeps the order of its calls).
      await journal.conclude(done(), events, clock.now())
    } catch (error) {
      if (!concluding) done()
      leftovers = true
      options.onError?.(error)
    }
    return result
  }

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
      const type = mailEventType(entry.status)
      if (type === undefined || !journal.wants([type])) return outbox.update(entry)
      const prior = (await outbox.get(entry.id))?.status
      const events = await mailEvents(prior, entry)
      if (events.length === 0) return outbox.update(entry)
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
    reconcile,
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
