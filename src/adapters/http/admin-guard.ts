/**
 * Admin authentication for `/oauth/login` and `/admin`: the admin token as
 * a bearer header (scripts) or the signed session cookie (browsers).
 * A browser's state-changing request must also prove it comes from our own
 * pages: same origin when the browser says (Origin, Sec-Fetch-Site) and the
 * session's CSRF token in the form field `csrf` or the `X-CSRF-Token`
 * header (OWASP CSRF Prevention Cheat Sheet). A bearer header is no ambient
 * credential, so it needs neither.
 * Browsers that come under another host name than PUBLIC_URL's are first
 * sent there, so that their cookies come back to the callback.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { SESSION_COOKIE } from './admin-session.ts'
import { attemptOf, refused, retryAfterSeconds, throttledMessage } from './auth-throttle.ts'
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

/** How the request proves it is the admin's, if it does. */
export async function adminCredential(c: Context, deps: HttpDeps): Promise<'bearer' | 'session' | undefined> {
  const token = bearerToken(c.req.header('Authorization'))
  if (token !== undefined) {
    const ok = constantTimeEqual(await sha256Hex(token), await sha256Hex(deps.adminToken))
    return ok ? 'bearer' : undefined
  }
  return (await deps.adminSessions.verify(getCookie(c, SESSION_COOKIE), deps.clock.now()))
    ? 'session'
    : undefined
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The CSRF token a browser request carries: header first, else the form field. */
async function presentedCsrf(c: Context): Promise<string | undefined> {
  const header = c.req.header('X-CSRF-Token')
  if (header) return header
  const type = c.req.header('Content-Type') ?? ''
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined
  // Hono caches the parsed body, so the route handler can still read the form.
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
  return typeof form['csrf'] === 'string' ? form['csrf'] : undefined
}

/** Whether a browser's state-changing request comes from our own pages. */
export async function sameSiteRequest(c: Context, deps: HttpDeps): Promise<boolean> {
  // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even with our
  // own forms; then Sec-Fetch-Site (set by the browser, not by page script) decides.
  const origin = c.req.header('Origin')
  const site = c.req.header('Sec-Fetch-Site')
  if (origin === 'null' && site !== 'same-origin') return false
  if (origin !== undefined && origin !== 'null' && origin !== new URL(deps.publicUrl).origin) return false
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false
  return deps.adminSessions.verifyCsrf(getCookie(c, SESSION_COOKIE), await presentedCsrf(c))
}

function csrfRefusal(c: Context): Response {
  return c.json(
    {
      error: {
        code: 'FORBIDDEN',
        message:
          'This request lacks a valid CSRF token or comes from another site; reload the page and try again (nothing was changed)',
      },
    },
    403,
  )
}

export function requireAdmin(deps: HttpDeps): MiddlewareHandler {
  return async (c, next) => {
    const bearer = bearerToken(c.req.header('Authorization')) !== undefined
    const attempt = bearer ? attemptOf(deps, c) : undefined
    if (attempt !== undefined && attempt.waitMs > 0) {
      c.header('Retry-After', String(retryAfterSeconds(attempt.waitMs)))
      return c.json({ error: { code: 'TOO_MANY_REQUESTS', message: throttledMessage(attempt.waitMs) } }, 429)
    }
    const credential = await adminCredential(c, deps)
    if (attempt !== undefined && credential !== 'bearer')
      refused(deps, attempt.address, 'Admin token refused (Authorization header)')
    if (credential === 'bearer') return next()
    if (credential === 'session') {
      if (SAFE_METHODS.has(c.req.method) || (await sameSiteRequest(c, deps))) return next()
      deps.logger.warn('Admin request refused: no valid CSRF token', { path: new URL(c.req.url).pathname })
      return csrfRefusal(c)
    }
    if (c.req.header('Authorization') !== undefined || !SAFE_METHODS.has(c.req.method)) {
      return c.json({ error: { code: 'UNAUTHORIZED', message: 'The admin token is missing or wrong' } }, 401)
    }
    const url = new URL(c.req.url)
    return c.redirect(`/admin/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302)
  }
}
