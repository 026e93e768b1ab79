/** In-memory implementations of the storage ports. */

import { inProcessClaims } from '../../src/adapters/in-process/outbox-claims.ts'
import { KeyedLocks } from '../../src/adapters/lowdb/keyed-locks.ts'
import { decodeCursor, encodeCursor } from '../../src/adapters/lowdb/outbox-cursor.ts'
import { compareOrderKeys } from '../../src/adapters/lowdb/sorted.ts'
import type { Account } from '../../src/domain/credentials/account.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import { byClaimOrder } from '../../src/domain/mail/claim.ts'
import { assertSameInput } from '../../src/domain/mail/idempotency.ts'
import { oldestDueAge } from '../../src/domain/mail/overdue.ts'
import { isFinished, MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../src/domain/mail/record.ts'
import type {
  AcceptResult,
  AccountRepository,
  Clock,
  OutboxClaims,
  OutboxPage,
  OutboxRepository,
} from '../../src/domain/ports.ts'

/** Accounts in a Map keyed by lower-case email, to the account-repository contract (one default at most). */
export function memoryAccounts(initial: Account[] = []): AccountRepository & { all: Map<string, Account> } {
  const all = new Map<string, Account>()
  const put = (account: Account) => {
    const email = account.email.toLowerCase()
    if (account.isDefault) {
      for (const other of all.values()) if (other.email !== email) other.isDefault = false
    }
    all.set(email, { ...structuredClone(account), email })
  }
  for (const account of initial) put(account)
  return {
    all,
    list: async () =>
      [...all.values()]
        .sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0))
        .map((account) => structuredClone(account)),
    get: async (email) => {
      const found = all.get(email.toLowerCase())
      return found ? structuredClone(found) : undefined
    },
    save: async (account) => put(account),
  }
}

/**
 * The outbox in memory, with claims (`OutboxClaims`) as one process has
 * them; `clock` is the store's clock (default: the real one).
 */
export function memoryOutbox(clock: Clock = { now: () => Date.now() }): OutboxRepository &
  OutboxClaims & {
    entries: Map<string, OutboxEntry>
    bodies: Map<string, Uint8Array>
  } {
  const entries = new Map<string, OutboxEntry>()
  const bodies = new Map<string, Uint8Array>()
  const locks = new KeyedLocks()
  const claims = inProcessClaims({
    now: () => clock.now(),
    live: (account, statuses) =>
      [...entries.values()]
        .filter(
          (entry) => (account === undefined || entry.account === account) && statuses.includes(entry.status),
        )
        .map((entry) => structuredClone(entry)),
    read: async (id) => {
      const found = entries.get(id)
      return found ? structuredClone(found) : undefined
    },
    write: async (changed) => {
      for (const entry of changed) entries.set(entry.id, structuredClone(entry))
    },
    locked: (ids, task) => locks.run(ids, task),
  })
  return {
    entries,
    bodies,
    ...claims,
    async accept(messages, options = {}) {
      // One synchronous step: nothing else runs between the lookups and the inserts.
      const since = options.idempotencySince ?? Number.NEGATIVE_INFINITY
      const keyOwner = (key: string) =>
        [...entries.values()].find((entry) => entry.idempotencyKey === key && entry.createdAt >= since)
      if (new Set(messages.map(({ entry }) => entry.id)).size !== messages.length) {
        throw new ServiceError('CONFLICT', 'Two messages share one id')
      }
      const results = messages.map(({ entry }): AcceptResult => {
        if (entries.has(entry.id))
          throw new ServiceError('CONFLICT', `A message with id ${entry.id} already exists`)
        const earlier = entry.idempotencyKey === undefined ? undefined : keyOwner(entry.idempotencyKey)
        if (earlier === undefined) return { entry: structuredClone(entry), replayed: false }
        assertSameInput(earlier, entry)
        return { entry: structuredClone(earlier), replayed: true }
      })
      for (const [index, { entry, raw }] of messages.entries()) {
        if (results[index]!.replayed) continue
        entries.set(entry.id, structuredClone(entry))
        bodies.set(entry.id, raw)
      }
      return results
    },
    async update(entry) {
      entries.set(entry.id, structuredClone(entry))
    },
    get: async (id) => {
      const found = entries.get(id)
      return found ? structuredClone(found) : undefined
    },
    async readRaw(id) {
      const raw = bodies.get(id)
      if (!raw) throw new ServiceError('NOT_FOUND', 'No body')
      return raw
    },
    async list(query) {
      // Newest first by (createdAt, id), the cursor naming the last item given, as lowdb pages.
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
      const older = [...entries.values()]
        .filter((entry) => query.status === undefined || entry.status === query.status)
        .filter((entry) => query.apiKeyId === undefined || entry.apiKeyId === query.apiKeyId)
        .filter((entry) => before === undefined || compareOrderKeys(entry, before) < 0)
        .sort((a, b) => compareOrderKeys(b, a))
      const items = older.slice(0, Math.max(0, Math.floor(query.limit)))
      const page: OutboxPage = { items: items.map((entry) => structuredClone(entry)) }
      const last = items.at(-1)
      if (older.length > items.length && last !== undefined) page.nextCursor = encodeCursor(last)
      return page
    },
    pending: async () =>
      [...entries.values()]
        .filter((entry) => !isFinished(entry.status))
        .sort(byClaimOrder)
        .map((entry) => structuredClone(entry)),
    findByIdempotencyKey: async (key, since) => {
      const found = [...entries.values()].find(
        (entry) => entry.idempotencyKey === key && entry.createdAt >= since,
      )
      return found ? structuredClone(found) : undefined
    },
    sentSince: async (account, since) =>
      [...entries.values()]
        .filter((entry) => entry.account === account && entry.sentAt !== undefined && entry.sentAt >= since)
        .map((entry) => entry.sentAt!)
        .sort((a, b) => a - b),
    countByStatus: async () => {
      const counts = Object.fromEntries(MAIL_STATUSES.map((status) => [status, 0])) as Record<
        MailStatus,
        number
      >
      for (const entry of entries.values()) counts[entry.status]++
      return counts
    },
    oldestDueAge: async () => oldestDueAge(entries.values(), clock.now()),
  }
}
