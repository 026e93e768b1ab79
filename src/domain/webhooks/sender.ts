/**
 * What the dispatcher needs to deliver one attempt, and the body every
 * attempt of an event carries (Standard Webhooks' `{ type, timestamp, data }`,
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure).
 */
import type { WebhookEvent } from './event.ts'
import type { WebhookAnswer } from './retry.ts'

export interface WebhookRequest {
  url: string
  /** `whsec_…`: the endpoint's signing secret. */
  secret: string
  /** The `webhook-id`: the event's id, the same on every attempt. */
  id: string
  /** The `webhook-timestamp`: Unix seconds of this attempt. */
  timestamp: number
  /** The JSON body, exactly as signed. */
  body: string
}

/**
 * One signed POST. Never throws: an answer is a status, or a short reason
 * there was none (`timeout`, `connection refused`, …) that names no secret.
 */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookAnswer>
}

/** The body of every attempt of `event`: the same bytes each time. */
export function webhookBody(event: WebhookEvent): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data: event.data })
}
