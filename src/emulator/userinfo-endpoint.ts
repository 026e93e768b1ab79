/**
 * `GET /v1/userinfo` (OpenID Connect Core §5.3, Google's
 * openidconnect.googleapis.com): the account behind an access token.
 */
import type { Hono } from 'hono'
import { bearerToken } from './bearer.ts'
import type { EmulatorContext } from './context.ts'
import { type EndpointSpec, faultable } from './endpoint.ts'
import { oauthError, oauthFaultResponse } from './google-errors.ts'
import { hasEmailScope } from './id-token.ts'
import { subjectIdFor } from './subject-id.ts'

export const USERINFO_PATH = '/v1/userinfo'

export function mountUserinfoEndpoint(app: Hono, context: EmulatorContext): void {
  const spec: EndpointSpec = {
    endpoint: 'userinfo',
    renderFault: oauthFaultResponse,
  }
  const handler = faultable(context, spec, async (c) => {
    const token = bearerToken(c.req.raw)
    const access = token === undefined ? undefined : context.oauth.liveAccessToken(token)
    if (access === undefined) {
      return oauthError({ status: 401, error: 'invalid_request', description: 'Invalid Credentials' })
    }
    // Like Google: the email comes only with the `email` scope.
    const claims: Record<string, unknown> = { sub: subjectIdFor(access.email) }
    if (hasEmailScope(access.scopes)) {
      claims['email'] = access.email
      claims['email_verified'] = true
    }
    return c.json(claims, 200, { 'cache-control': 'no-store' })
  })
  app.get(USERINFO_PATH, handler)
  app.post(USERINFO_PATH, handler)
}
