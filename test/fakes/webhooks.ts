/**
 * The webhook store in memory, to the webhook-store contract: events fanned
 * out at publication into one delivery per subscribed, enabled endpoint;
 * claims with leases (an expired lease is claimable again; a claim stands
 * for its owner until someone else takes it over, as the outbox's do);
 * settle only by the claim's owner; attempts newest first.
 */
import { ServiceError } from '../../src/domain/errors.ts'
import {
  type DeliveryAttemptRecord,
  subscribes,
  type WebhookEndpoint,
  type WebhookEvent,
} from '../../src/domain/webhooks/event.ts'
import type { WebhookEndpointSummary, WebhookStore } from '../../src/domain/webhooks/ports.ts'

/** A delivery still on its way: due at `dueAt`, or leased to `lease.owner` until `lease.until`. */
export interface MemoryDelivery {
  id: string
  endpointId: string
  eventId: string
  dueAt: number
  attempts: number
  firstDueAt: number
  lease?: { owner: string; until: number }
}

export interface MemoryWebhookStore extends WebhookStore {
  endpoints: Map<string, WebhookEndpoint>
  events: Map<string, WebhookEvent>
  /** Pending deliveries by id (finished ones are gone). */
  deliveries: Map<string, MemoryDelivery>
  /** Every attempt, oldest first. */
  attemptLog: DeliveryAttemptRecord[]
  /** How each finished delivery ended, by id. */
  finished: Map<string, 'delivered' | 'gave_up'>
}

export function memoryWebhookStore(options: { newDeliveryId?: () => string } = {}): MemoryWebhookStore {
  const newDeliveryId = options.newDeliveryId ?? (() => `dlv_${crypto.randomUUID().replace(/-/g, '')}`)
  const endpoints = new Map<string, WebhookEndpoint>()
  const events = new Map<string, WebhookEvent>()
  const deliveries = new Map<string, MemoryDelivery>()
  const attemptLog: DeliveryAttemptRecord[] = []
  const finished = new Map<string, 'delivered' | 'gave_up'>()

  const newestFirst = (endpointId: string) =>
    attemptLog.filter((attempt) => attempt.endpointId === endpointId).reverse()
  // Newest by time; among equal times the one recorded last.
  const byTimeNewestFirst = (list: DeliveryAttemptRecord[]) =>
    list
      .map((attempt, index) => ({ attempt, index }))
      .sort((a, b) => b.attempt.at - a.attempt.at || a.index - b.index)
  const summary = (endpoint: WebhookEndpoint): WebhookEndpointSummary => {
    const { secret: _secret, ...rest } = structuredClone(endpoint)
    const last = byTimeNewestFirst(newestFirst(endpoint.id))[0]?.attempt
    return last === undefined ? rest : { ...rest, lastAttempt: structuredClone(last) }
  }
  const dropPending = (endpointId: string) => {
    for (const [id, delivery] of deliveries) if (delivery.endpointId === endpointId) deliveries.delete(id)
  }
  const leased = (delivery: MemoryDelivery, now: number) =>
    delivery.lease !== undefined && delivery.lease.until > now

  return {
    endpoints,
    events,
    deliveries,
    attemptLog,
    finished,
    async createEndpoint(endpoint) {
      if (endpoints.has(endpoint.id))
        throw new ServiceError('CONFLICT', `Webhook endpoint ${endpoint.id} exists`)
      endpoints.set(endpoint.id, structuredClone(endpoint))
    },
    async listEndpoints() {
      return [...endpoints.values()]
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map(summary)
    },
    async deleteEndpoint(id) {
      const found = endpoints.get(id)
      if (found === undefined) return undefined
      const answer = summary(found)
      endpoints.delete(id)
      dropPending(id)
      return answer
    },
    async disableEndpoint(id, at, reason) {
      const found = endpoints.get(id)
      if (found === undefined) return
      if (found.disabledAt === undefined) {
        found.disabledAt = at
        found.disabledReason = reason
      }
      dropPending(id)
    },
    async publish(list, at) {
      // One synchronous step: nothing else runs between the checks and the writes.
      for (const event of list) {
        if (events.has(event.id)) continue
        events.set(event.id, structuredClone(event))
        for (const endpoint of endpoints.values()) {
          if (!subscribes(endpoint, event.type)) continue
          const id = newDeliveryId()
          deliveries.set(id, {
            id,
            endpointId: endpoint.id,
            eventId: event.id,
            dueAt: at,
            attempts: 0,
            firstDueAt: at,
          })
        }
      }
    },
    async claimDue({ owner, now, leaseMs, limit }) {
      const due = [...deliveries.values()]
        .filter((delivery) => delivery.dueAt <= now && !leased(delivery, now))
        .filter((delivery) => endpoints.get(delivery.endpointId)?.disabledAt === undefined)
        .sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, Math.max(0, limit))
      return due.map((delivery) => {
        delivery.lease = { owner, until: now + leaseMs }
        return {
          id: delivery.id,
          endpoint: structuredClone(endpoints.get(delivery.endpointId)!),
          event: structuredClone(events.get(delivery.eventId)!),
          attempts: delivery.attempts,
          firstDueAt: delivery.firstDueAt,
        }
      })
    },
    async settle({ owner, deliveryId, attempt, next }) {
      const delivery = deliveries.get(deliveryId)
      if (delivery === undefined || delivery.lease?.owner !== owner) return false
      attemptLog.push(structuredClone(attempt))
      if ('retryAt' in next) {
        delivery.attempts += 1
        delivery.dueAt = next.retryAt
        delete delivery.lease
      } else {
        deliveries.delete(deliveryId)
        finished.set(deliveryId, next.done)
      }
      return true
    },
    async attempts(endpointId, limit) {
      return byTimeNewestFirst(newestFirst(endpointId))
        .slice(0, Math.max(0, limit))
        .map(({ attempt }) => structuredClone(attempt))
    },
    async replay({ endpointId, eventId, at, deliveryId }) {
      const event = events.get(eventId)
      const endpoint = endpoints.get(endpointId)
      if (endpoint === undefined || endpoint.disabledAt !== undefined || event === undefined) return false
      deliveries.set(deliveryId, {
        id: deliveryId,
        endpointId,
        eventId,
        dueAt: at,
        attempts: 0,
        firstDueAt: at,
      })
      return true
    },
    async nextDueAt() {
      let next: number | undefined
      for (const delivery of deliveries.values()) {
        const at =
          delivery.lease === undefined ? delivery.dueAt : Math.max(delivery.dueAt, delivery.lease.until)
        if (next === undefined || at < next) next = at
      }
      return next
    },
    async pendingCount() {
      return deliveries.size
    },
  }
}
