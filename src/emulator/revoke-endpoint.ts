/**
 * `POST /revoke` (RFC 7009, Google's variant): the token comes in the query
 * or the form body; an unknown token is a 400 `invalid_token`.
 * (developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke)
 */
import type { Hono } from 'hono'
import type { EmulatorContext } from './context.ts'
import { type EndpointSpec, faultable } from './endpoint.ts'
import { readForm } from './form-body.ts'
import { oauthError, oauthFaultResponse } from './google-errors.ts'

export const REVOKE_PATH = '/revoke'

export function mountRevokeEndpoint(app: Hono, context: EmulatorContext): void {
  const spec: EndpointSpec = {
    endpoint: 'revoke',
    renderFault: oauthFaultResponse,
  }
  app.post(
    REVOKE_PATH,
    faultable(context, spec, async (c) => {
      const form = await readForm(c.req.raw)
      const token = new URL(c.req.url).searchParams.get('token') ?? form?.get('token') ?? ''
      if (token === '') return oauthError({ status: 400, description: 'Missing required parameter: token' })
      if (!context.oauth.revokeToken(token)) return oauthError({ status: 400, error: 'invalid_token' })
      return c.json({}, 200, { 'cache-control': 'no-store' })
    }),
  )
}
