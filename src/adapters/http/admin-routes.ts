/**
 * The admin console's routes. Pages are server-rendered; every state change
 * is a POST carrying the session's CSRF token (or the bearer admin token).
 */
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import { toAccountStatus } from '../../app/account-status.ts'
import { canonicalHost, requireAdmin } from './admin-guard.ts'
import { SESSION_COOKIE } from './admin-session.ts'
import type { HttpDeps } from './deps.ts'
import { consolePage } from './pages/console.ts'

export function adminRoutes(deps: HttpDeps): Hono {
  const app = new Hono()
  app.use('/admin', canonicalHost(deps.publicUrl), requireAdmin(deps))
  app.use('/admin/*', async (c, next) => {
    const path = new URL(c.req.url).pathname
    if (path === '/admin/login' || path === '/admin/logout') return next()
    return requireAdmin(deps)(c, next)
  })

  app.get('/admin', async (c) => {
    const session = getCookie(c, SESSION_COOKIE)
    const csrf = session ? await deps.adminSessions.csrfToken(session) : ''
    const accounts = (await deps.accounts.list()).map(toAccountStatus)
    const page = await deps.mail.list({ limit: 20 })
    const counts = await deps.countByStatus()
    return c.html(
      consolePage({
        sandbox: deps.sandbox,
        csrf,
        accounts,
        messages: page.items,
        counts,
        notice: c.req.query('connected'),
      }),
    )
  })
  return app
}
