/**
 * The webhook store of lowdb mode (`WebhookStore`, and the `ChangeJournal`
 * of the in-process derivation), in DATA_DIR: `webhooks.json` for the
 * endpoints (secrets sealed by the token cipher, rewritten whole: they
 * change rarely, `batched-state.ts`), and for events, deliveries, attempts
 * and the journal a snapshot, `webhook-deliveries.json`, with an append-only
 * log of the changes since (`webhook-log.ts`: concurrent calls share one
 * write and one fdatasync; compacted in the background). Every change is on
 * disk before it resolves, each call's changes all or nothing; what is kept
 * is bounded (`webhook-book.ts` `prune`, at each snapshot).
 *
 * One process owns the files, so claims are leases in memory: a claim
 * never writes, and a restart frees every claim, as the death of a replica
 * does (a delivery whose attempt was cut short is due again at once, and
 * delivered at least once). The settlement of an attempt is what is
 * written, and only by the lease's holder.
 *
 * Events reach it from `src/app/webhooks/change-events.ts`, after the
 * change they report is durable. Unlike PostgreSQL's triggers, this is not
 * one transaction with the change: a change noted in the journal before it
 * is written is looked at again on the next open, so a crash between the
 * change and its event delays the event, never loses it; losing or damaging
 * this file can. Nothing is written for an event no endpoint wants.
 */
import { join } from 'node:path'
import type { ChangeJournal, NotedChange } from '../../app/webhooks/change-journal.ts'
import { ServiceError } from '../../domain/errors.ts'
import type { Clock } from '../../domain/ports.ts'
import type { DeliveryJob } from '../../domain/webhooks/event.ts'
import type { WebhookStore } from '../../domain/webhooks/ports.ts'
import { BatchedState } from './batched-state.ts'
import { DurableJsonFile } from './durable-file.ts'
import { ensurePrivateDir } from './fs-durable.ts'
import { type TokenCipher, webhookSecretPurpose } from './token-cipher.ts'
import {
  claimableAt,
  dueDeliveries,
  endpointOf,
  fanOut,
  type Lease,
  type Retention,
  retentionOf,
  summaryOf,
  wanted,
} from './webhook-book.ts'
import { openBook } from './webhook-book-files.ts'
import {
  type BookChange,
  ENDPOINTS_FILE,
  type EndpointsFile,
  emptyEndpoints,
  endpointsFileSchema,
  type StoredEndpoint,
} from './webhook-files.ts'

export interface LowdbWebhookStoreOptions extends Partial<Retention> {
  dataDir: string
  cipher: TokenCipher
  clock: Clock
  /** The log is folded into the snapshot past this size (and twice the snapshot's); default 1 MiB. */
  compactAfterBytes?: number
}

export type LowdbWebhookStore = WebhookStore &
  ChangeJournal & {
    /** Waits for the writes under way and folds the log into the snapshot (the store stays usable). */
    close(): Promise<void>
  }

/** The endpoints as the hot paths look them up, made again when the file changes. */
interface EndpointView {
  file: EndpointsFile
  byId: Map<string, StoredEndpoint>
  enabled: StoredEndpoint[]
  enabledIds: Set<string>
}

const newDeliveryId = () => `dlv_${crypto.randomUUID().replaceAll('-', '')}`

/** A noted change's own copy (its one nested field is an account's prior state). */
const copyOfNote = (change: NotedChange): NotedChange =>
  change.kind === 'mail' || change.prior === undefined
    ? { ...change }
    : { ...change, prior: { ...change.prior } }

/** Opens (creating if needed) the webhook store of `dataDir`, opening every secret once. */
export async function openWebhookStore(options: LowdbWebhookStoreOptions): Promise<LowdbWebhookStore> {
  const keep = retentionOf(options)
  const { dataDir, clock } = options
  await ensurePrivateDir(dataDir)
  const endpointsFile = new DurableJsonFile(join(dataDir, ENDPOINTS_FILE), endpointsFileSchema)
  const state = new BatchedState<{ endpoints: EndpointsFile }>(
    { endpoints: (await endpointsFile.read()) ?? emptyEndpoints() },
    { save: (draft) => endpointsFile.write(draft.endpoints) },
  )
  const secrets = new Map<string, string>()
  for (const endpoint of state.state.endpoints.endpoints) {
    secrets.set(
      endpoint.id,
      await options.cipher.decrypt(endpoint.sealedSecret, webhookSecretPurpose(endpoint.id)),
    )
  }
  const endpoints = () => state.state.endpoints.endpoints
  const { ledger, log } = await openBook({
    dataDir,
    keep,
    endpoints,
    now: () => clock.now(),
    ...(options.compactAfterBytes === undefined ? {} : { compactAfterBytes: options.compactAfterBytes }),
  })

  let view: EndpointView | undefined
  const current = (): EndpointView => {
    const file = state.state.endpoints
    if (view?.file !== file) {
      const enabled = file.endpoints.filter((endpoint) => endpoint.disabledAt === undefined)
      view = {
        file,
        byId: new Map(file.endpoints.map((endpoint) => [endpoint.id, endpoint])),
        enabled,
        enabledIds: new Set(enabled.map((endpoint) => endpoint.id)),
      }
    }
    return view
  }
  /** Pending deliveries an enabled endpoint still wants (one deleted or disabled in a race waits for the prune). */
  function* live() {
    const { enabledIds } = current()
    for (const delivery of ledger.pending()) if (enabledIds.has(delivery.endpointId)) yield delivery
  }
  const commit = <T>(changes: BookChange[], result: () => T, lingering = false): Promise<T> =>
    log.append(
      changes,
      () => {
        for (const change of changes) ledger.apply(change)
        return result()
      },
      { lingering },
    )
  /** Applies one change once it is durable; whether it changed anything. `lingering`: see `WebhookLog.append`. */
  const commitOne = (change: BookChange, lingering = false): Promise<boolean> =>
    log.append([change], () => ledger.apply(change), { lingering })
  const leases = new Map<string, Lease>()

  return {
    async createEndpoint(endpoint) {
      const { secret, ...rest } = endpoint
      const sealedSecret = await options.cipher.encrypt(secret, webhookSecretPurpose(endpoint.id))
      await state.run(['endpoints'], (draft) => {
        if (draft.endpoints.endpoints.some((other) => other.id === endpoint.id)) {
          throw new ServiceError(
            'CONFLICT',
            `A webhook endpoint has the id ${JSON.stringify(endpoint.id)} already`,
          )
        }
        draft.endpoints.endpoints.push({ ...structuredClone(rest), sealedSecret })
      })
      secrets.set(endpoint.id, secret)
    },

    async listEndpoints() {
      return endpoints().map((endpoint) => summaryOf(endpoint, ledger.book))
    },

    async deleteEndpoint(id) {
      if (!current().byId.has(id)) return undefined
      const removed = await state.run(['endpoints'], (draft) => {
        const found = draft.endpoints.endpoints.find((endpoint) => endpoint.id === id)
        if (found === undefined) return undefined
        const summary = summaryOf(found, ledger.book)
        draft.endpoints.endpoints = draft.endpoints.endpoints.filter((endpoint) => endpoint.id !== id)
        return summary
      })
      if (removed === undefined) return undefined
      secrets.delete(id)
      // Tidying only: nothing is claimed for an endpoint gone, and the next snapshot prunes what this leaves.
      await commitOne({ kind: 'drop', endpointId: id, pendingOnly: false }).catch(() => {})
      return removed
    },

    async disableEndpoint(id, at, reason) {
      const found = await state.run(['endpoints'], (draft) => {
        const stored = draft.endpoints.endpoints.find((endpoint) => endpoint.id === id)
        if (stored !== undefined && stored.disabledAt === undefined) {
          stored.disabledAt = at
          stored.disabledReason = reason
        }
        return stored !== undefined
      })
      if (!found || ![...ledger.pending()].some((delivery) => delivery.endpointId === id)) return
      await commitOne({ kind: 'drop', endpointId: id, pendingOnly: true })
    },

    async publish(events, at) {
      const change = fanOut(ledger.book, current().enabled, events, at, newDeliveryId)
      if (change !== undefined) await commitOne(change)
    },

    async claimDue({ owner, now, leaseMs, limit }) {
      const count = Math.max(0, Math.floor(limit))
      if (count === 0) return []
      for (const id of leases.keys()) if (!ledger.isPending(id)) leases.delete(id)
      const { byId, enabledIds } = current()
      const jobs: DeliveryJob[] = []
      // Picked and leased in one synchronous step: no other claim runs in between.
      for (const delivery of dueDeliveries(ledger.pending(), enabledIds, leases, now, count)) {
        const event = ledger.book.events[delivery.eventId]
        const endpoint = byId.get(delivery.endpointId)
        const secret = secrets.get(delivery.endpointId)
        if (event === undefined || endpoint === undefined || secret === undefined) continue
        leases.set(delivery.id, { owner, until: now + leaseMs })
        jobs.push({
          id: delivery.id,
          endpoint: endpointOf(endpoint, secret),
          event: structuredClone(event),
          attempts: delivery.attempts,
          firstDueAt: delivery.firstDueAt,
        })
      }
      return jobs
    },

    async settle({ owner, deliveryId, attempt, next }) {
      const held = () => leases.get(deliveryId)?.owner === owner
      if (!held() || !ledger.isPending(deliveryId)) return false
      // The dispatcher's next attempt does not wait for this one's record: it may share a write.
      const settled = await commitOne(
        {
          kind: 'settle',
          deliveryId,
          attempt: { ...attempt },
          ...('retryAt' in next ? { retryAt: next.retryAt } : { done: next.done }),
        },
        true,
      )
      if (settled && held()) leases.delete(deliveryId)
      return settled
    },

    async attempts(endpointId, limit) {
      const list = ledger.book.attempts[endpointId] ?? []
      return list
        .slice()
        .reverse()
        .slice(0, Math.max(0, Math.floor(limit)))
        .map((attempt) => structuredClone(attempt))
    },

    async replay({ endpointId, eventId, at, deliveryId }) {
      if (ledger.book.events[eventId] === undefined || !current().enabledIds.has(endpointId)) return false
      return commitOne({
        kind: 'replay',
        delivery: { id: deliveryId, eventId, endpointId, dueAt: at, attempts: 0, firstDueAt: at },
      })
    },

    async nextDueAt() {
      let next: number | undefined
      for (const delivery of live()) {
        const at = claimableAt(delivery, leases.get(delivery.id))
        if (next === undefined || at < next) next = at
      }
      return next
    },

    async pendingCount() {
      let count = 0
      for (const _ of live()) count++
      return count
    },

    wants: (types) => wanted(current().enabled, types),

    async note(changes, noteOptions) {
      if (changes.length === 0) return
      // Written even for a subject noted already: a forget of it may be on its way to disk.
      await commitOne({ kind: 'note', changes: changes.map(copyOfNote) }, noteOptions?.ahead === true)
    },

    noted: () => Object.values(ledger.book.journal).map((change) => structuredClone(change)),

    async conclude(keys, events, at) {
      const changes: BookChange[] = []
      // Handed over (ChangeJournal.conclude): stored as they are, not copied.
      const published = fanOut(ledger.book, current().enabled, events, at, newDeliveryId, true)
      if (published !== undefined) changes.push(published)
      const known = keys.filter((key) => ledger.book.journal[key] !== undefined)
      if (known.length > 0) changes.push({ kind: 'forget', keys: known })
      // Called once the change is written and its caller answered: it may share a write.
      if (changes.length > 0) await commit(changes, () => undefined, true)
    },

    async close() {
      await state.idle()
      // Best effort: when the snapshot cannot be written, the log files stay and are read on open.
      await log.compact().catch(() => {})
    },
  }
}
