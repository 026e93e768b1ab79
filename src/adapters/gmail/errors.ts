/**
 * Maps what the Gmail client and google-auth-library throw (GaxiosError and
 * the errors under it) to `ServiceError`s that say whether a retry can help.
 * https://developers.google.com/workspace/gmail/api/guides/handle-errors
 *
 * Messages are built here from the status and Google's own error message:
 * a GaxiosError's message and config are never copied, since they can hold
 * the bearer token, the client secret or a refresh token.
 */
import { ServiceError } from '../../domain/errors.ts'
import { field, googleAnswerOf, oauthErrorOf } from '../google/http-error.ts'
import { parseRetryAfter, retryAfterHeader } from './retry-after.ts'

/** Where the failure happened: getting an access token, or the send itself. */
export type SendStage = 'token' | 'send'

interface GoogleAnswer {
  status: number
  /** RFC 6749 §5.2 `error` of a token endpoint answer. */
  oauthError: string | undefined
  /** First `errors[].reason` of a Google API error body. */
  reason: string | undefined
  message: string | undefined
  retryAfterMs: number | undefined
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded'])
/** Nothing reached Google: the message was certainly not sent. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])
const NETWORK_CODES = new Set([
  ...NOT_CONNECTED_CODES,
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'TimeoutError',
  'AbortError',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])
const NETWORK_MESSAGE = /socket hang up|timed? ?out|aborted|network|fetch failed/i

/** The `ServiceError` for a failed `users.messages.send` (or the token refresh before it). */
export function gmailServiceError(error: unknown, options: { stage: SendStage; now: number }): ServiceError {
  if (error instanceof ServiceError) return error
  const answer = readAnswer(error, options.now)
  if (answer === undefined) return transportError(error, options.stage)
  if (options.stage === 'token' || answer.oauthError !== undefined) return tokenEndpointError(answer)
  return gmailAnswerError(answer)
}

/** The HTTP status of a GaxiosError's answer, if it got one. */
export function statusOf(error: unknown): number | undefined {
  return googleAnswerOf(error)?.status
}

function gmailAnswerError(answer: GoogleAnswer): ServiceError {
  const { status, reason } = answer
  const said = `Gmail answered ${status}${reason === undefined ? '' : ` ${reason}`}${
    answer.message === undefined ? '' : `: ${answer.message}`
  }`
  const hint = answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }
  if (status === 429 || (status === 403 && reason !== undefined && RATE_LIMIT_REASONS.has(reason))) {
    return new ServiceError('GMAIL_RATE_LIMITED', said, { retryable: true, ...hint })
  }
  if (status === 403 && reason === 'dailyLimitExceeded') {
    return new ServiceError('GMAIL_DAILY_LIMIT', said, { retryable: true, ...hint })
  }
  if (status === 403 && reason === 'insufficientPermissions') {
    // The grant lacks gmail.send: only a new consent fixes it, the message is fine.
    return new ServiceError('REAUTHORIZATION_REQUIRED', said)
  }
  // A 401 that survived the library's forced refresh is odd (clock skew, a
  // revocation racing the refresh): worth a few more tries, then the policy gives up.
  if (status >= 500 || status === 401 || status === 408) {
    return new ServiceError('GMAIL_UNAVAILABLE', said, { retryable: true, ...hint })
  }
  const refusal = `Gmail refused the message (${status}${reason === undefined ? '' : ` ${reason}`})${
    answer.message === undefined ? '' : `: ${answer.message}`
  }`
  return new ServiceError('GMAIL_REJECTED', refusal)
}

function tokenEndpointError(answer: GoogleAnswer): ServiceError {
  const what = answer.oauthError ?? `HTTP ${answer.status}`
  if (answer.oauthError === 'invalid_grant') {
    return new ServiceError(
      'REAUTHORIZATION_REQUIRED',
      "Google refused the account's refresh token (invalid_grant): the account must be reauthorized",
    )
  }
  if (answer.status >= 500 || answer.status === 429 || answer.status === 408) {
    return new ServiceError('NETWORK', `Google's token endpoint answered ${answer.status}`, {
      retryable: true,
      ...(answer.retryAfterMs === undefined ? {} : { retryAfterMs: answer.retryAfterMs }),
    })
  }
  // invalid_client, unauthorized_client...: the service's OAuth client is misconfigured.
  return new ServiceError('CONFIG', `Google's token endpoint refused the OAuth client (${what})`)
}

function transportError(error: unknown, stage: SendStage): ServiceError {
  const codes = causeChain(error).flatMap((link) => {
    const code = field(link, 'code')
    return typeof code === 'string' ? [code] : []
  })
  const known = codes.find((code) => NETWORK_CODES.has(code))
  const looksLikeNetwork =
    known !== undefined ||
    causeChain(error).some((link) => link instanceof Error && NETWORK_MESSAGE.test(link.message)) ||
    typeof field(error, 'config') === 'object'
  if (!looksLikeNetwork) {
    return new ServiceError('INTERNAL', 'Sending through Gmail failed unexpectedly')
  }
  const detail = known === undefined ? '' : ` (${known})`
  if (stage === 'token') {
    return new ServiceError('NETWORK', `Could not reach Google's token endpoint${detail}`, {
      retryable: true,
    })
  }
  const maybeSent =
    known !== undefined && NOT_CONNECTED_CODES.has(known) ? '' : '; the message may have been sent'
  return new ServiceError('NETWORK', `Could not reach Gmail${detail}${maybeSent}`, { retryable: true })
}

function readAnswer(error: unknown, now: number): GoogleAnswer | undefined {
  const response = googleAnswerOf(error)
  if (response === undefined) return undefined
  const body = field(response.data, 'error')
  const errors = field(body, 'errors')
  const first = Array.isArray(errors) ? errors[0] : undefined
  const reason = field(first, 'reason')
  const message = field(body, 'message')
  return {
    status: response.status,
    oauthError: oauthErrorOf(response.data),
    reason: typeof reason === 'string' && /^\w{1,64}$/.test(reason) ? reason : undefined,
    message: typeof message === 'string' ? cleanMessage(message) : undefined,
    retryAfterMs: parseRetryAfter(retryAfterHeader(response.headers), now),
  }
}

/** Google's message, on one line and bounded, for an error a caller will read. */
function cleanMessage(message: string): string | undefined {
  const line = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  if (line === '') return undefined
  return line.length > 300 ? `${line.slice(0, 297)}...` : line
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = []
  let link: unknown = error
  while (typeof link === 'object' && link !== null && chain.length < 6 && !chain.includes(link)) {
    chain.push(link)
    link = field(link, 'cause') ?? field(link, 'error')
  }
  return chain
}
