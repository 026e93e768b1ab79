/**
 * Tokens as google-auth-library hands them over (`Credentials`), turned into
 * the domain's `GrantedTokens`, and the watch that keeps a rotated refresh
 * token from being lost.
 */
import type { Credentials, OAuth2Client } from 'google-auth-library'
import type { GrantedTokens } from '../../domain/credentials/account.ts'
import { ServiceError } from '../../domain/errors.ts'

/** The longest refresh-token lifetime believed (100 years): beyond it, a date would be nonsense. */
const MAX_LIFETIME_SECONDS = 100 * 365 * 86_400

/**
 * `refresh_token_expires_in` of a token response: the seconds the refresh
 * token has left, which Google sends only for a time-limited grant
 * (time-based access). The library passes unknown fields of the answer
 * through on `tokens` untouched. Anything but a positive whole number of
 * seconds is not a lifetime, and is ignored.
 * https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
 */
export function refreshTokenLifetimeSeconds(tokens: Credentials): number | undefined {
  const value = (tokens as { refresh_token_expires_in?: unknown }).refresh_token_expires_in
  return typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value > 0 &&
    value <= MAX_LIFETIME_SECONDS
    ? value
    : undefined
}

/**
 * Maps a token response (RFC 6749 §5.1, `scope` space-separated) to
 * `GrantedTokens`; `now` (epoch ms, when the answer came) dates a refresh
 * token's lifetime.
 */
export function grantedTokens(
  tokens: Credentials,
  refreshToken: string | undefined,
  now: number,
): GrantedTokens {
  if (typeof tokens.access_token !== 'string' || tokens.access_token === '') {
    throw new ServiceError('OAUTH_EXCHANGE_FAILED', "Google's token answer has no access token", {
      retryable: true,
    })
  }
  const granted: GrantedTokens = {
    accessToken: tokens.access_token,
    scopes: typeof tokens.scope === 'string' ? tokens.scope.split(/\s+/).filter((scope) => scope !== '') : [],
  }
  if (refreshToken !== undefined) granted.refreshToken = refreshToken
  if (typeof tokens.expiry_date === 'number') granted.expiresAt = tokens.expiry_date
  const lifetime = refreshTokenLifetimeSeconds(tokens)
  if (lifetime !== undefined) granted.refreshTokenExpiresAt = now + lifetime * 1000
  return granted
}

/**
 * Reports every refresh of `client` to `onTokens`, with `refreshToken` set
 * only when Google rotated it.
 *
 * The library emits `tokens` with Google's answer, then overwrites that same
 * object's `refresh_token` with the one it refreshed with and keeps it: a
 * rotated token would be lost and the next refresh would use the dead one.
 * Copying it into the client's credentials inside the (synchronous) listener
 * makes the library keep the new one instead.
 */
export function watchTokenRefreshes(
  client: OAuth2Client,
  onTokens: (tokens: GrantedTokens) => void,
  now: () => number = Date.now,
): void {
  client.on('tokens', (tokens) => {
    const sent = tokens.refresh_token
    const rotated =
      typeof sent === 'string' && sent !== '' && sent !== client.credentials.refresh_token ? sent : undefined
    if (rotated !== undefined) client.credentials.refresh_token = rotated
    if (typeof tokens.access_token !== 'string') return
    try {
      onTokens(grantedTokens(tokens, rotated, now()))
    } catch {
      // The refresh itself succeeded: failing it now would strand a rotated token.
    }
  })
}
