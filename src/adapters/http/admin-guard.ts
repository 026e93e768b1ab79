/**
 * Admin authentication for `/oauth/login` and `/admin`: the admin token as
 * a bearer header (scripts) or the signed session cookie (browsers).
 * Browsers that come under another host name than PUBLIC_URL's are first
 * sent there, so that their cookies come back to the callback.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { SESSION_COOKIE } from './admin-session.ts'
import type { HttpDeps } from './deps.ts'
import { bearerToken, constantTimeEqual, sha256Hex } from './secrets.ts'

export function canonicalHost(publicUrl: string): MiddlewareHandler {
  const wanted = new URL(publicUrl)
  return async (c, next) => {
    const url = new URL(c.req.url)
    if (c.req.method === 'GET' && url.host !== wanted.host && !c.req.header('Authorization')) {
      return c.redirect(`${publicUrl}${url.pathname}${url.search}`, 302)
    }
    return next()
  }
}

export async function isAdmin(c: Context, deps: HttpDeps): Promise<boolean> {
  const token = bearerToken(c.req.header('Authorization'))
  if (token !== undefined) {
    return constantTimeEqual(await sha256Hex(token), await sha256Hex(deps.adminToken))
  }
  return deps.adminSessions.verify(getCookie(c, SESSION_COOKIE), deps.clock.now())
}

export function requireAdmin(deps: HttpDeps): MiddlewareHandler {
  return async (c, next) => {
    if (await isAdmin(c, deps)) return next()
    if (c.req.header('Authorization') !== undefined || c.req.method !== 'GET') {
      return c.json({ error: { code: 'UNAUTHORIZED', message: 'The admin token is missing or wrong' } }, 401)
    }
    const url = new URL(c.req.url)
    return c.redirect(`/admin/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302)
  }
}
