/**
 * The admin's use cases for webhooks (`admin.webhooks.*` and the console's
 * webhooks page call the same ones).
 */
import type { EventType } from '../../domain/webhooks/event.ts'

export interface WebhookEndpointView {
  id: string
  url: string
  events: EventType[]
  createdAt: string
  disabledAt?: string
  disabledReason?: string
  lastDelivery?: WebhookAttemptView
}

export interface WebhookAttemptView {
  deliveryId: string
  eventId: string
  eventType: EventType
  at: string
  status?: number
  error?: string
  ok: boolean
  durationMs: number
}

export interface WebhookAdmin {
  /** Registers an endpoint; the answer is the only place its secret (`whsec_…`) is shown. */
  create(request: { url: string; events?: EventType[] }): Promise<WebhookEndpointView & { secret: string }>
  list(): Promise<WebhookEndpointView[]>
  /** Throws NOT_FOUND for an unknown id. */
  delete(id: string): Promise<WebhookEndpointView>
  /** Recent attempts, newest first; NOT_FOUND for an unknown endpoint. */
  deliveries(request: { id: string; limit?: number }): Promise<WebhookAttemptView[]>
  /** Sends a stored event to the endpoint again (a new delivery, same `webhook-id`). */
  replay(request: { id: string; eventId: string }): Promise<void>
}
