/**
 * What happens when the user answers the consent screen: a redirect back to
 * the client with a code or with `error=access_denied` (RFC 6749 §4.1.2).
 * A refresh token is due only for offline access when the consent screen
 * was really shown: the first consent of this account for this client, or
 * `prompt=consent` (developers.google.com/identity/protocols/oauth2/web-server#offline).
 */
import type { AuthorizationRequest } from './authorization-request.ts'
import type { EmulatorContext } from './context.ts'
import type { ConsentChoice, RefreshTokenLifetime } from './types.ts'

/**
 * Allows the request as `email`. The refresh token it leads to lives as the
 * user chose (time-based access, told in the token answers), else as the
 * app's setting (an app in Testing), else until revoked.
 */
export function allowConsent(
  context: EmulatorContext,
  request: AuthorizationRequest,
  email: string,
  choice: ConsentChoice = {},
): string {
  const firstConsent = !context.oauth.hasConsent(request.clientId, email)
  const refreshDue = request.accessType === 'offline' && (firstConsent || request.prompts.includes('consent'))
  context.oauth.recordConsent(request.clientId, email)
  const lifetime: RefreshTokenLifetime | undefined =
    choice.accessSeconds === undefined
      ? context.refreshTokenLifetime
      : { seconds: choice.accessSeconds, announced: true }
  const code = context.oauth.issueCode({
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    email,
    scopes: request.scopes,
    refreshDue,
    ...(lifetime === undefined ? {} : { lifetime }),
  })
  return redirectTo(request.redirectUri, { code, state: request.state, scope: request.scopes.join(' ') })
}

export function denyConsent(request: AuthorizationRequest): string {
  return redirectTo(request.redirectUri, { error: 'access_denied', state: request.state })
}

function redirectTo(redirectUri: string, parameters: Record<string, string>): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value)
  return url.href
}
