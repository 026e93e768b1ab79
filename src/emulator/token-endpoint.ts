/**
 * `POST /token`: the authorization-code grant with PKCE (RFC 6749 §4.1.3,
 * RFC 7636 §4.6) and the refresh grant (RFC 6749 §6), with Google's error
 * wording (developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code).
 */
import type { Hono } from 'hono'
import type { EmulatorContext } from './context.ts'
import { faultable } from './endpoint.ts'
import { clientCredentials, readForm } from './form-body.ts'
import { oauthError, oauthFaultResponse } from './google-errors.ts'
import { unsignedIdToken } from './id-token.ts'
import type { AccessGrant, RefreshGrant } from './oauth-state.ts'
import { verifierMatchesChallenge } from './pkce.ts'

export const TOKEN_PATH = '/token'

export function mountTokenEndpoint(app: Hono, context: EmulatorContext): void {
  app.post(
    TOKEN_PATH,
    faultable(context, { endpoint: 'token', renderFault: oauthFaultResponse }, async (c) => {
      const form = await readForm(c.req.raw)
      if (form === undefined) {
        return oauthError({ status: 400, description: 'The body must be application/x-www-form-urlencoded.' })
      }
      const { clientId, clientSecret } = clientCredentials(c.req.raw, form)
      if (clientId === undefined || !context.clients.authenticate(clientId, clientSecret)) {
        return oauthError({ status: 401, error: 'invalid_client' })
      }
      const grantType = form.get('grant_type') ?? ''
      if (grantType === 'authorization_code') return exchangeCode(context, clientId, form)
      if (grantType === 'refresh_token') return refreshAccess(context, clientId, form)
      return oauthError({
        status: 400,
        error: 'unsupported_grant_type',
        description: `Invalid grant_type: ${grantType}`,
      })
    }),
  )
}

async function exchangeCode(
  context: EmulatorContext,
  clientId: string,
  form: URLSearchParams,
): Promise<Response> {
  const code = form.get('code')
  if (code === null || code === '') {
    return oauthError({ status: 400, description: 'Missing required parameter: code' })
  }
  const pending = context.oauth.takeCode(code)
  if (pending === undefined || pending.clientId !== clientId) {
    return oauthError({ status: 400, error: 'invalid_grant', description: 'Bad Request' })
  }
  if (form.get('redirect_uri') !== pending.redirectUri) {
    return oauthError({ status: 400, error: 'redirect_uri_mismatch', description: 'Bad Request' })
  }
  const verifier = form.get('code_verifier')
  if (verifier === null || verifier === '') {
    return oauthError({ status: 400, error: 'invalid_grant', description: 'Missing code verifier.' })
  }
  if (!(await verifierMatchesChallenge(verifier, pending.codeChallenge))) {
    return oauthError({ status: 400, error: 'invalid_grant', description: 'Invalid code verifier.' })
  }
  const grant = { clientId, email: pending.email, scopes: pending.scopes }
  const refresh = pending.refreshDue
    ? context.oauth.issueRefreshToken(clientId, pending.email, pending.scopes, pending.lifetime)
    : undefined
  return tokenResponse(context, context.oauth.issueAccessToken(grant), refresh, refresh)
}

function refreshAccess(context: EmulatorContext, clientId: string, form: URLSearchParams): Response {
  const token = form.get('refresh_token')
  if (token === null || token === '') {
    return oauthError({ status: 400, description: 'Missing required parameter: refresh_token' })
  }
  // Unknown, revoked or past its lifetime: Google says "Token has been expired or revoked." alike.
  const grant = context.oauth.refreshGrant(token)
  if (grant === undefined) return oauthError({ status: 400, error: 'invalid_grant' })
  if (grant.clientId !== clientId) {
    return oauthError({ status: 401, error: 'unauthorized_client', description: 'Unauthorized' })
  }
  const rotated = context.rotateRefreshTokens ? context.oauth.rotateRefreshToken(grant) : undefined
  const access = context.oauth.issueAccessToken({ clientId, email: grant.email, scopes: grant.scopes })
  return tokenResponse(context, access, rotated, rotated ?? grant)
}

/**
 * RFC 6749 §5.1; Google adds an ID token when `openid` was granted, and
 * `refresh_token_expires_in` (the seconds the refresh token has left) for a
 * time-limited grant. `issued` is the refresh token sent in this answer,
 * `used` the one the answer's lifetime is about.
 */
function tokenResponse(
  context: EmulatorContext,
  access: AccessGrant,
  issued: RefreshGrant | undefined,
  used: RefreshGrant | undefined,
): Response {
  const body: Record<string, unknown> = {
    access_token: access.token,
    expires_in: Math.max(0, Math.round((access.expiresAt - context.now()) / 1000)),
  }
  if (issued !== undefined) body['refresh_token'] = issued.token
  if (used?.announced === true && used.expiresAt !== undefined) {
    body['refresh_token_expires_in'] = Math.max(1, Math.floor((used.expiresAt - context.now()) / 1000))
  }
  body['scope'] = access.scopes.join(' ')
  body['token_type'] = 'Bearer'
  if (access.scopes.includes('openid')) {
    body['id_token'] = unsignedIdToken({ ...access, issuedAt: context.now() })
  }
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
    },
  })
}
