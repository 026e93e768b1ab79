/** In-memory implementations of the storage ports. */
import type { Account } from '../../src/domain/credentials/account.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import { isFinished, MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../src/domain/mail/record.ts'
import type { AccountRepository, OutboxRepository } from '../../src/domain/ports.ts'

export function memoryAccounts(initial: Account[] = []): AccountRepository & { all: Map<string, Account> } {
  const all = new Map(initial.map((account) => [account.email, structuredClone(account)]))
  return {
    all,
    list: async () => [...all.values()].map((account) => structuredClone(account)),
    get: async (email) => {
      const found = all.get(email)
      return found ? structuredClone(found) : undefined
    },
    save: async (account) => {
      all.set(account.email, structuredClone(account))
    },
  }
}

export function memoryOutbox(): OutboxRepository & {
  entries: Map<string, OutboxEntry>
  bodies: Map<string, Uint8Array>
} {
  const entries = new Map<string, OutboxEntry>()
  const bodies = new Map<string, Uint8Array>()
  return {
    entries,
    bodies,
    async accept(messages) {
      for (const { entry, raw } of messages) {
        entries.set(entry.id, structuredClone(entry))
        bodies.set(entry.id, raw)
      }
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
      const items = [...entries.values()]
        .filter((entry) => query.status === undefined || entry.status === query.status)
        .sort((a, b) => b.createdAt - a.createdAt)
      return { items: items.slice(0, query.limit).map((entry) => structuredClone(entry)) }
    },
    pending: async () =>
      [...entries.values()]
        .filter((entry) => !isFinished(entry.status))
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
  }
}
