/**
 * Mapping the errors google-auth-library throws (GaxiosError), read through
 * `../google/http-error.ts`, which never copies their message or config.
 */
import { type ErrorCode, ServiceError } from '../../domain/errors.ts'
import { googleAnswerOf, oauthErrorOf } from '../google/http-error.ts'

/**
 * The `error` code of an OAuth 2.0 error response (RFC 6749 §5.2), when it
 * is one: a short ASCII word such as `invalid_grant`, safe to quote.
 */
export function oauthErrorCode(error: unknown): string | undefined {
  return oauthErrorOf(googleAnswerOf(error)?.data)
}

/**
 * Whether Google refused a refresh token (`400 invalid_grant`): revoked,
 * expired after 7 days in "Testing", unused for 6 months, password changed,
 * or dropped for too many live tokens. Only a new consent helps.
 * https://developers.google.com/identity/protocols/oauth2#expiration
 */
export function isInvalidGrant(error: unknown): boolean {
  return oauthErrorCode(error) === 'invalid_grant'
}

/**
 * Maps a failed call to one of Google's OAuth endpoints: no answer or a 5xx
 * is worth retrying; a refusal quotes only Google's error code.
 */
export function oauthEndpointError(
  error: unknown,
  options: { code: ErrorCode; endpoint: string; refusal: string; refusalCode?: ErrorCode },
): ServiceError {
  const response = googleAnswerOf(error)
  if (response === undefined) {
    return new ServiceError(options.code, `Could not reach ${options.endpoint}`, { retryable: true })
  }
  if (response.status >= 500 || response.status === 429) {
    return new ServiceError(options.code, `${capitalize(options.endpoint)} answered ${response.status}`, {
      retryable: true,
    })
  }
  return new ServiceError(
    options.refusalCode ?? options.code,
    `${options.refusal}: ${oauthErrorCode(error) ?? `HTTP ${response.status}`}`,
  )
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
