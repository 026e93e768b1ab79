/**
 * Error bodies in Google's formats: the JSON API one for Gmail
 * (cloud.google.com/apis/design/errors, developers.google.com/workspace/gmail/api/guides/handle-errors)
 * and the OAuth 2.0 one for the token, revoke and userinfo endpoints (RFC 6749 §5.2).
 */

/** The canonical status names Google pairs with HTTP codes. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

const DEFAULT_REASONS: Record<number, string> = {
  400: 'badRequest',
  401: 'authError',
  403: 'forbidden',
  404: 'notFound',
  413: 'uploadTooLarge',
  429: 'rateLimitExceeded',
}

const REASON_MESSAGES: Record<string, string> = {
  authError:
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  insufficientPermissions: 'Request had insufficient authentication scopes.',
  userRateLimitExceeded: 'User-rate limit exceeded.',
  rateLimitExceeded: 'Rate Limit Exceeded',
  dailyLimitExceeded: 'Daily Limit Exceeded',
  quotaExceeded: 'Quota exceeded.',
  backendError: 'Backend Error',
  failedPrecondition: 'Precondition check failed.',
  forbidden: 'The caller does not have permission',
  notFound: 'Requested entity was not found.',
  badRequest: 'Bad Request',
}

const USAGE_LIMIT_REASONS = new Set([
  'userRateLimitExceeded',
  'rateLimitExceeded',
  'dailyLimitExceeded',
  'quotaExceeded',
])

export interface GoogleApiError {
  status: number
  reason?: string
  message?: string
  retryAfterSeconds?: number
}

/** A Gmail-style error response: `{ error: { code, message, errors: [{ reason, domain, message }], status } }`. */
export function googleApiError(spec: GoogleApiError): Response {
  const reason = spec.reason ?? DEFAULT_REASONS[spec.status] ?? 'backendError'
  const message = spec.message ?? REASON_MESSAGES[reason] ?? 'Backend Error'
  const domain = USAGE_LIMIT_REASONS.has(reason) ? 'usageLimits' : 'global'
  const body = {
    error: {
      code: spec.status,
      message,
      errors: [{ message, domain, reason }],
      status: STATUS_NAMES[spec.status] ?? (spec.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
    },
  }
  const headers = new Headers({ 'content-type': 'application/json; charset=UTF-8' })
  if (spec.retryAfterSeconds !== undefined) headers.set('retry-after', String(spec.retryAfterSeconds))
  if (spec.status === 401) headers.set('www-authenticate', 'Bearer realm="https://accounts.google.com/"')
  return new Response(JSON.stringify(body), { status: spec.status, headers })
}

const OAUTH_DEFAULT_ERRORS: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'access_denied',
  429: 'rate_limit_exceeded',
  503: 'temporarily_unavailable',
}

const OAUTH_DESCRIPTIONS: Record<string, string> = {
  invalid_grant: 'Token has been expired or revoked.',
  invalid_client: 'The OAuth client was not found.',
  invalid_token: 'Token expired or revoked',
}

export interface OAuthError {
  status: number
  error?: string
  description?: string
  retryAfterSeconds?: number
}

/** An OAuth 2.0 error response `{ error, error_description }` (RFC 6749 §5.2), never cached. */
export function oauthError(spec: OAuthError): Response {
  const error = spec.error ?? OAUTH_DEFAULT_ERRORS[spec.status] ?? 'server_error'
  const description = spec.description ?? OAUTH_DESCRIPTIONS[error] ?? 'The request failed.'
  const headers = new Headers({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  })
  if (spec.retryAfterSeconds !== undefined) headers.set('retry-after', String(spec.retryAfterSeconds))
  if (spec.status === 401) headers.set('www-authenticate', `Bearer error="${error}"`)
  return new Response(JSON.stringify({ error, error_description: description }), {
    status: spec.status,
    headers,
  })
}

interface StatusFaultLike {
  status: number
  reason?: string
  retryAfterSeconds?: number
}

/** An injected status fault, worded as the OAuth endpoints word errors. */
export function oauthFaultResponse(fault: StatusFaultLike): Response {
  return oauthError({
    status: fault.status,
    ...(fault.reason === undefined ? {} : { error: fault.reason }),
    ...(fault.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: fault.retryAfterSeconds }),
  })
}

/** An injected status fault, worded as Gmail words errors. */
export function googleApiFaultResponse(fault: StatusFaultLike): Response {
  return googleApiError({
    status: fault.status,
    ...(fault.reason === undefined ? {} : { reason: fault.reason }),
    ...(fault.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: fault.retryAfterSeconds }),
  })
}
