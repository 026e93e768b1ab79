/**
 * The metrics port: what the use cases tell an operator's monitoring. Each
 * call names one outcome from a closed set, never an address, a message id
 * or a key, so that an adapter can turn them into labels without growing a
 * series per message. `noMetrics` is the default everywhere, so that tests
 * and callers that do not care pass nothing.
 */
import { isServiceError } from '../domain/errors.ts'
import type { MailStatus } from '../domain/mail/record.ts'

/** What a delivery attempt did to its message, once recorded. */
export const MESSAGE_OUTCOMES = ['sent', 'retry', 'held', 'failed'] as const
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number]

/** How one `users.messages.send` call (with the token refresh before it) ended. */
export const GMAIL_RESULTS = [
  'sent',
  'rate_limited',
  'unavailable',
  'rejected',
  'network',
  'reauthorization_required',
  'error',
] as const
export type GmailResult = (typeof GMAIL_RESULTS)[number]

/** How a refresh of an account's access token at Google's token endpoint ended. */
export const TOKEN_REFRESH_OUTCOMES = ['ok', 'failed', 'reauthorization_required'] as const
export type TokenRefreshOutcome = (typeof TOKEN_REFRESH_OUTCOMES)[number]

/**
 * How one webhook attempt ended: `delivered` (2xx in time), `retry` (another
 * answer or none; tried again later), `gave_up` (the last retry failed),
 * `disabled` (the endpoint answered 410).
 */
export const WEBHOOK_DELIVERY_OUTCOMES = ['delivered', 'retry', 'gave_up', 'disabled'] as const
export type WebhookDeliveryOutcome = (typeof WEBHOOK_DELIVERY_OUTCOMES)[number]

export interface Metrics {
  messageOutcome(outcome: MessageOutcome): void
  /** `seconds`: from the call's start (access token included) to its answer. */
  gmailRequest(result: GmailResult, seconds: number): void
  tokenRefresh(outcome: TokenRefreshOutcome): void
  webhookDelivery(outcome: WebhookDeliveryOutcome): void
}

/** Counts nothing. */
export const noMetrics: Metrics = {
  messageOutcome: () => {},
  gmailRequest: () => {},
  tokenRefresh: () => {},
  webhookDelivery: () => {},
}

/** The outcome an attempt's recorded status stands for; undefined for a status no attempt ends in. */
export function attemptOutcome(status: MailStatus): MessageOutcome | undefined {
  if (status === 'sent') return 'sent'
  if (status === 'failed') return 'failed'
  if (status === 'held') return 'held'
  if (status === 'queued' || status === 'scheduled') return 'retry'
  return undefined
}

/** The result label of a failed Gmail call, from the `ServiceError` code the Gmail adapter threw. */
export function gmailResultOf(caught: unknown): GmailResult {
  if (!isServiceError(caught)) return 'error'
  switch (caught.code) {
    case 'GMAIL_RATE_LIMITED':
    case 'GMAIL_DAILY_LIMIT':
      return 'rate_limited'
    case 'GMAIL_UNAVAILABLE':
      return 'unavailable'
    case 'GMAIL_REJECTED':
      return 'rejected'
    case 'NETWORK':
      return 'network'
    case 'REAUTHORIZATION_REQUIRED':
      return 'reauthorization_required'
    default:
      return 'error'
  }
}

/** The outcome label of a failed token refresh. */
export function tokenRefreshOutcomeOf(caught: unknown): TokenRefreshOutcome {
  return isServiceError(caught) && caught.code === 'REAUTHORIZATION_REQUIRED'
    ? 'reauthorization_required'
    : 'failed'
}
