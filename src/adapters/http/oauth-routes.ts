/**
 * `/oauth/login` and `/oauth/callback`: the admin's authorization of a
 * Google account. The `state` cookie binds the flow to the browser that
 * started it (RFC 9700 §4.7.1); SameSite=Lax so that it comes back on
 * Google's top-level redirect.
 */
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { z } from 'zod'
import { STATE_LIFETIME_MS } from '../../app/authorization.ts'
import { canonicalHost, requireAdmin } from './admin-guard.ts'
import type { HttpDeps } from './deps.ts'
import { noticeQuery } from './pages/notice.ts'
import { oauthFailurePage } from './pages/oauth-result.ts'

const STATE_COOKIE = 'oauth_state'

const loginQuery = z.object({
  login_hint: z
    .string()
    .max(254)
    .regex(/^[^\s<>"\p{Cc}]+@[^\s<>"\p{Cc}@]+$/u, 'must be an email address')
    .optional(),
})

const callbackQuery = z.object({
  state: z.string().min(1).max(512).optional(),
  code: z.string().min(1).max(2048).optional(),
  error: z.string().min(1).max(256).optional(),
})

const TITLES = {
  OAUTH_DENIED: 'Access was not granted',
  OAUTH_STATE_INVALID: 'This sign-in link is not valid',
  OAUTH_EXCHANGE_FAILED: 'Google did not confirm the authorization',
  OAUTH_SCOPE_MISSING: 'Permission to send mail is missing',
} as const

export function oauthRoutes(deps: HttpDeps): Hono {
  const app = new Hono()
  const secure = deps.publicUrl.startsWith('https:')
  const setState = (c: Parameters<typeof setCookie>[0], state: string) =>
    setCookie(c, STATE_COOKIE, state, {
      httpOnly: true,
      sameSite: 'Lax',
      secure,
      path: '/oauth',
      maxAge: STATE_LIFETIME_MS / 1000,
    })

  app.get('/oauth/login', canonicalHost(deps.publicUrl), requireAdmin(deps), async (c) => {
    const parsed = loginQuery.safeParse(c.req.query())
    if (!parsed.success) {
      return c.json({ error: { code: 'BAD_REQUEST', message: 'login_hint must be an email address' } }, 400)
    }
    const options = parsed.data.login_hint === undefined ? {} : { loginHint: parsed.data.login_hint }
    const started = await deps.authorization.start(options)
    setState(c, started.state)
    return c.redirect(started.url, 302)
  })

  app.get('/oauth/callback', async (c) => {
    const parsed = callbackQuery.safeParse(c.req.query())
    const cookieState = getCookie(c, STATE_COOKIE)
    deleteCookie(c, STATE_COOKIE, { path: '/oauth', secure })
    const query = parsed.success ? parsed.data : {}
    const result = await deps.authorization.complete({
      ...query,
      ...(cookieState === undefined ? {} : { cookieState }),
    })
    if (result.kind === 'connected') {
      const notice = noticeQuery('connected', { account: result.email, released: result.released })
      return c.redirect(`/admin?${notice}`, 302)
    }
    if (result.kind === 'consent_required') {
      setState(c, result.state)
      return c.redirect(result.url, 302)
    }
    const retry =
      result.loginHint === undefined
        ? '/oauth/login'
        : `/oauth/login?login_hint=${encodeURIComponent(result.loginHint)}`
    return c.html(
      oauthFailurePage({
        sandbox: deps.sandbox,
        title: TITLES[result.code],
        message: result.message,
        retryUrl: retry,
      }),
      400,
    )
  })
  return app
}
