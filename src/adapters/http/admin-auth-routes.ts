/** The admin's sign-in and sign-out. */
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { canonicalHost, sameSiteRequest } from './admin-guard.ts'
import { SESSION_COOKIE, SESSION_LIFETIME_MS } from './admin-session.ts'
import { attemptOf, refused, retryAfterSeconds, throttledMessage } from './auth-throttle.ts'
import { consolePath } from './console-path.ts'
import type { HttpDeps } from './deps.ts'
import { signInPage } from './pages/sign-in.ts'
import { constantTimeEqual, sha256Hex } from './secrets.ts'

/**
 * Only our own console paths are followed after sign-in (no open redirect,
 * RFC 9700 §4.11): `/admin…` or `/oauth/login…` once percent-encoding and
 * dot segments are resolved as a browser would; anything else is `/admin`.
 */
function safeNext(next: unknown): string {
  return consolePath(next, ['/admin', '/oauth/login']) ?? '/admin'
}

export function adminAuthRoutes(deps: HttpDeps): Hono {
  const app = new Hono()
  const secure = deps.publicUrl.startsWith('https:')

  app.get('/admin/login', canonicalHost(deps.publicUrl), (c) =>
    c.html(signInPage({ sandbox: deps.sandbox, next: safeNext(c.req.query('next')) })),
  )

  app.post('/admin/login', async (c) => {
    const attempt = attemptOf(deps, c)
    if (attempt.waitMs > 0) {
      c.header('Retry-After', String(retryAfterSeconds(attempt.waitMs)))
      const error = `${throttledMessage(attempt.waitMs)}.`
      return c.html(signInPage({ sandbox: deps.sandbox, error, next: '/admin' }), 429)
    }
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    const token = typeof form['token'] === 'string' ? form['token'] : ''
    const next = safeNext(form['next'])
    const ok = token.length > 0 && constantTimeEqual(await sha256Hex(token), await sha256Hex(deps.adminToken))
    if (!ok) {
      refused(deps, attempt.address, 'Admin sign-in refused')
      return c.html(signInPage({ sandbox: deps.sandbox, error: 'That admin token is not right.', next }), 401)
    }
    const session = await deps.adminSessions.issue(deps.clock.now())
    setCookie(c, SESSION_COOKIE, session, {
      httpOnly: true,
      sameSite: 'Strict',
      secure,
      path: '/',
      maxAge: SESSION_LIFETIME_MS / 1000,
    })
    return c.redirect(next, 303)
  })

  app.post('/admin/logout', async (c) => {
    const session = getCookie(c, SESSION_COOKIE)
    if (session === undefined || !(await sameSiteRequest(c, deps))) {
      return c.json(
        {
          error: {
            code: 'FORBIDDEN',
            message:
              'Sign-out needs the form of a signed-in page (CSRF token missing or wrong); reload and try again',
          },
        },
        403,
      )
    }
    await deps.adminSessions.revoke(session, deps.clock.now())
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure, httpOnly: true, sameSite: 'Strict' })
    return c.redirect('/admin/login', 303)
  })
  return app
}
