/**
 * `OutboxClaims` for a store that one process owns (lowdb, the tests'
 * in-memory outbox): the same contract as PostgreSQL's, where "another
 * replica" can only be another engine in this process. Each change holds
 * its messages' locks (the store's own), reads them, moves them by the
 * domain's `transition`, and writes them back before the lock is let go;
 * the clock is the store's. The contract suite
 * (test/contracts/outbox.contract.ts) holds it to the same rules as SQL.
 */
import { ServiceError } from '../../domain/errors.ts'
import { byClaimOrder, dueAt, holdsClaim, isClaimable, renewClaim } from '../../domain/mail/claim.ts'
import type { MailStatus, OutboxEntry } from '../../domain/mail/record.ts'
import { type MailEvent, transition } from '../../domain/mail/transition.ts'
import type { AccountWork, OutboxClaims } from '../../domain/ports.ts'

/** What a store gives for claims to be made over it. */
export interface ClaimableStore {
  now(): number
  /** Copies of the unfinished messages in `statuses`, of `account` or of all when undefined. */
  live(account: string | undefined, statuses: readonly MailStatus[]): OutboxEntry[]
  /** The stored message (a copy), read under the lock. */
  read(id: string): Promise<OutboxEntry | undefined>
  /** Stores changed messages durably; called under their locks. */
  write(entries: readonly OutboxEntry[]): Promise<void>
  /** Runs `task` holding the locks of `ids` (changes of other ids go on meanwhile). */
  locked<T>(ids: readonly string[], task: () => Promise<T>): Promise<T>
}

type Decide = (stored: OutboxEntry, now: number) => MailEvent | undefined

const ACTIVE: readonly MailStatus[] = ['queued', 'scheduled', 'sending']

function moved(stored: OutboxEntry, event: MailEvent, now: number): OutboxEntry {
  return { ...transition(stored, event), updatedAt: now }
}

export function inProcessClaims(store: ClaimableStore): OutboxClaims {
  /**
   * Ids a `claimDue` under way has picked and not yet written: another one
   * skips them, as `FOR UPDATE SKIP LOCKED` does, and takes the next due
   * ones instead of coming back empty-handed.
   */
  const claiming = new Set<string>()

  /** The stored messages of `ids` that still exist, under their locks. */
  const readAll = async (ids: readonly string[]) => {
    const found: OutboxEntry[] = []
    for (const id of ids) {
      const entry = await store.read(id)
      if (entry !== undefined) found.push(entry)
    }
    return found
  }

  return {
    now: async () => store.now(),

    async claimDue({ owner, account, leaseMs, limit }) {
      const count = Math.max(0, Math.floor(limit))
      if (count === 0) return []
      const seen = store.now()
      const ids = store
        .live(account, ACTIVE)
        .filter((entry) => !claiming.has(entry.id) && isClaimable(entry, seen))
        .sort(byClaimOrder)
        .slice(0, count)
        .map((entry) => entry.id)
      if (ids.length === 0) return []
      // Picked and marked in one synchronous step: no other claim runs in between.
      for (const id of ids) claiming.add(id)
      try {
        return await store.locked(ids, async () => {
          const now = store.now()
          // Looked at again under the locks: a change may have moved some meanwhile.
          const claimed = (await readAll(ids))
            .filter((entry) => isClaimable(entry, now))
            .map((entry) => moved(entry, { type: 'lease', at: now, owner, until: now + leaseMs }, now))
          await store.write(claimed)
          return claimed
        })
      } finally {
        for (const id of ids) claiming.delete(id)
      }
    },

    async renew({ owner, ids, leaseMs }) {
      if (ids.length === 0) return []
      return store.locked(ids, async () => {
        const until = store.now() + leaseMs
        const stored = new Map((await readAll(ids)).map((entry) => [entry.id, entry]))
        const renewed: OutboxEntry[] = []
        const lost: string[] = []
        for (const id of ids) {
          const entry = stored.get(id)
          const next = entry === undefined ? undefined : renewClaim(entry, owner, until)
          if (next === undefined) lost.push(id)
          else if (next.claim!.until !== entry!.claim!.until) renewed.push(next)
        }
        await store.write(renewed)
        return lost
      })
    },

    async settle({ owner, id, event }) {
      return store.locked([id], async () => {
        const stored = await store.read(id)
        if (stored === undefined || !holdsClaim(stored, owner)) return undefined
        const next = moved(stored, event, store.now())
        await store.write([next])
        return next
      })
    },

    async change(id: string, decide: Decide) {
      return store.locked([id], async () => {
        const stored = await store.read(id)
        if (stored === undefined)
          throw new ServiceError('NOT_FOUND', `No message has the id ${JSON.stringify(id)}`)
        const now = store.now()
        const event = decide(stored, now)
        if (event === undefined) return stored
        const next = moved(stored, event, now)
        await store.write([next])
        return next
      })
    },

    async changeAccount(account, statuses, decide: Decide) {
      if (statuses.length === 0) return []
      const ids = store
        .live(account, statuses)
        .sort(byClaimOrder)
        .map((entry) => entry.id)
      if (ids.length === 0) return []
      return store.locked(ids, async () => {
        const now = store.now()
        const changed: OutboxEntry[] = []
        // All moves are decided before any is written: a refused one changes nothing.
        for (const stored of await readAll(ids)) {
          if (!statuses.includes(stored.status)) continue
          const event = decide(stored, now)
          if (event !== undefined) changed.push(moved(stored, event, now))
        }
        await store.write(changed)
        return changed
      })
    },

    async upcoming() {
      const next = new Map<string, number>()
      for (const entry of store.live(undefined, ACTIVE)) {
        const at = entry.status === 'sending' ? (entry.claim?.until ?? entry.createdAt) : dueAt(entry)
        next.set(entry.account, Math.min(next.get(entry.account) ?? Number.POSITIVE_INFINITY, at))
      }
      return [...next]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([account, nextAt]): AccountWork => ({ account, nextAt }))
    },
  }
}
