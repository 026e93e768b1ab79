/**
 * The admin's webhook use cases over the `WebhookStore`: endpoints made
 * with a fresh signing secret (shown in the answer to `create` and nowhere
 * else), listed, deleted, their recent attempts, and a replay of an event.
 */
import { badRequest, ServiceError } from '../../domain/errors.ts'
import type { Clock } from '../../domain/ports.ts'
import { type DeliveryAttemptRecord, EVENT_TYPES, type EventType } from '../../domain/webhooks/event.ts'
import type { WebhookEndpointSummary, WebhookStore } from '../../domain/webhooks/ports.ts'
import type { WebhookAdmin, WebhookAttemptView, WebhookEndpointView } from './admin.ts'

export const MAX_WEBHOOK_URL_LENGTH = 2_048
export const DEFAULT_DELIVERIES_LIMIT = 20
export const MAX_DELIVERIES_LIMIT = 100

export interface WebhookAdminOptions {
  store: WebhookStore
  clock: Clock
  /** `whsec_…`: a fresh signing secret (the adapter's `generateWebhookSecret`). */
  newSecret: () => string
  /** Ids: `wh_…` for endpoints, `dlv_…` for replayed deliveries. */
  newId: (prefix: 'wh' | 'dlv') => string
  /** Called after a replay is stored, so that the dispatcher looks at once. */
  onReplay?: () => void
}

export function createWebhookAdmin(options: WebhookAdminOptions): WebhookAdmin {
  const { store, clock } = options

  const find = async (id: string): Promise<WebhookEndpointSummary> => {
    const found = (await store.listEndpoints()).find((endpoint) => endpoint.id === id)
    if (found === undefined) throw new ServiceError('NOT_FOUND', `No webhook endpoint ${quote(id)}`)
    return found
  }

  return {
    async create(request) {
      const url = checkWebhookUrl(request.url)
      const events = checkEventTypes(request.events ?? [])
      const endpoint = {
        id: options.newId('wh'),
        url,
        events,
        secret: options.newSecret(),
        createdAt: clock.now(),
      }
      await store.createEndpoint(endpoint)
      const { secret, ...shown } = endpoint
      return { ...toEndpointView(shown), secret }
    },
    async list() {
      return (await store.listEndpoints()).map(toEndpointView)
    },
    async delete(id) {
      const removed = await store.deleteEndpoint(id)
      if (removed === undefined) throw new ServiceError('NOT_FOUND', `No webhook endpoint ${quote(id)}`)
      return toEndpointView(removed)
    },
    async deliveries(request) {
      await find(request.id)
      const limit = Math.min(MAX_DELIVERIES_LIMIT, Math.max(1, request.limit ?? DEFAULT_DELIVERIES_LIMIT))
      return (await store.attempts(request.id, limit)).map(toAttemptView)
    },
    async replay(request) {
      const endpoint = await find(request.id)
      if (endpoint.disabledAt !== undefined) {
        throw badRequest(`Webhook endpoint ${quote(endpoint.id)} is disabled; nothing more is sent to it`)
      }
      const stored = await store.replay({
        endpointId: endpoint.id,
        eventId: request.eventId,
        at: clock.now(),
        deliveryId: options.newId('dlv'),
      })
      if (!stored) throw new ServiceError('NOT_FOUND', `No webhook event ${quote(request.eventId)}`)
      options.onReplay?.()
    },
  }
}

/**
 * The URL an endpoint is registered under: absolute http(s), no user name
 * or password in it (a secret in a URL ends up in logs and in the console;
 * the signature is what authenticates the sender), at most 2,048 characters.
 */
export function checkWebhookUrl(text: string): string {
  const issue = (message: string) => badRequest(message, [{ path: 'url', message }])
  if (text.length === 0 || text.length > MAX_WEBHOOK_URL_LENGTH) {
    throw issue(`A webhook URL has 1 to ${MAX_WEBHOOK_URL_LENGTH} characters`)
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw issue('A webhook URL must be an absolute http:// or https:// URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw issue(`A webhook URL must use http or https, not ${quote(url.protocol.replace(/:$/, ''))}`)
  }
  if (url.username !== '' || url.password !== '') {
    throw issue(
      'A webhook URL must not carry a user name or password; the signature authenticates each event',
    )
  }
  if (url.hash !== '') throw issue('A webhook URL must not have a #fragment')
  return url.href
}

/** The subscribed types, each once, in the contract's order; empty means all. */
export function checkEventTypes(events: readonly string[]): EventType[] {
  const unknown = events.filter((type) => !(EVENT_TYPES as readonly string[]).includes(type))
  if (unknown.length > 0) {
    throw badRequest(`Unknown webhook event type ${quote(unknown[0]!)}; known: ${EVENT_TYPES.join(', ')}`, [
      { path: 'events', message: 'Unknown event type' },
    ])
  }
  return EVENT_TYPES.filter((type) => events.includes(type))
}

function toEndpointView(endpoint: WebhookEndpointSummary): WebhookEndpointView {
  const view: WebhookEndpointView = {
    id: endpoint.id,
    url: endpoint.url,
    events: [...endpoint.events],
    createdAt: new Date(endpoint.createdAt).toISOString(),
  }
  if (endpoint.disabledAt !== undefined) view.disabledAt = new Date(endpoint.disabledAt).toISOString()
  if (endpoint.disabledReason !== undefined) view.disabledReason = endpoint.disabledReason
  if (endpoint.lastAttempt !== undefined) view.lastDelivery = toAttemptView(endpoint.lastAttempt)
  return view
}

function toAttemptView(attempt: DeliveryAttemptRecord): WebhookAttemptView {
  const view: WebhookAttemptView = {
    deliveryId: attempt.deliveryId,
    eventId: attempt.eventId,
    eventType: attempt.eventType,
    at: new Date(attempt.at).toISOString(),
    ok: attempt.ok,
    durationMs: attempt.durationMs,
  }
  if (attempt.status !== undefined) view.status = attempt.status
  if (attempt.error !== undefined) view.error = attempt.error
  return view
}

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
}
