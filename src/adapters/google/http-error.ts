/**
 * Reading Google's HTTP error answers out of what google-auth-library and
 * the Gmail client throw (GaxiosError, by duck typing), for both Google
 * adapters. Only the status, the headers and the parsed body are read:
 * never the error's message or config, which can carry the bearer token,
 * the client secret (form body) or a refresh token (query string).
 */

/** The HTTP answer a failed request got. */
export interface GoogleHttpAnswer {
  status: number
  /** The parsed body: an OAuth error (`{ error: "invalid_grant" }`) or an API error (`{ error: { errors, message } }`). */
  data: unknown
  headers: unknown
}

/** The HTTP answer carried by a GaxiosError, if the request got one. */
export function googleAnswerOf(error: unknown): GoogleHttpAnswer | undefined {
  const response = field(error, 'response')
  const status = field(response, 'status')
  if (typeof status !== 'number') return undefined
  return { status, data: field(response, 'data'), headers: field(response, 'headers') }
}

/**
 * The `error` code of an OAuth 2.0 error body (RFC 6749 §5.2), when it is
 * one: a short ASCII word such as `invalid_grant`, safe to quote.
 */
export function oauthErrorOf(data: unknown): string | undefined {
  const code = field(data, 'error')
  return typeof code === 'string' && /^[\w.-]{1,64}$/.test(code) ? code : undefined
}

/** A property of an object of unknown shape; `undefined` for anything else. */
export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined
}
