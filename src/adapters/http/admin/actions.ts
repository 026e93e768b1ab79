/**
 * The plumbing of the console's state-changing forms: the POST body, the
 * CSRF check (a browser session must send its token; a script holding the
 * bearer admin token need not, it carries no ambient credential), and the
 * 303 redirect back with a notice (RFC 9110 §15.4.4).
 */
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { isServiceError } from '../../../domain/errors.ts'
import { SESSION_COOKIE } from '../admin-session.ts'
import { consolePath } from '../console-path.ts'
import type { HttpDeps } from '../deps.ts'
import { type NoticeCode, noticeQuery } from '../pages/notice.ts'
import { simplePage } from '../pages/simple-page.ts'
import { bearerToken } from '../secrets.ts'

/** The form fields of a POST (files and repeated fields ignored). */
export async function formOf(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
  const fields: Record<string, string> = {}
  for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = value
  return fields
}

/**
 * Whether a form may change state. The admin guard has already checked
 * who is calling; a bearer header there means a script. A browser session's
 * token may come as the form field `csrf` or the `X-CSRF-Token` header
 * (as the README says); either one, when valid, is enough.
 */
export async function csrfPasses(c: Context, deps: HttpDeps, form: Record<string, string>): Promise<boolean> {
  if (bearerToken(c.req.header('Authorization')) !== undefined) return true
  const session = getCookie(c, SESSION_COOKIE)
  if (await deps.adminSessions.verifyCsrf(session, form['csrf'])) return true
  const header = c.req.header('X-CSRF-Token')
  return header !== undefined && (await deps.adminSessions.verifyCsrf(session, header))
}

/** The CSRF token to put in the page's forms; empty for a bearer caller. */
export async function csrfFor(c: Context, deps: HttpDeps): Promise<string> {
  const session = getCookie(c, SESSION_COOKIE)
  return session ? deps.adminSessions.csrfToken(session) : ''
}

/** The answer to a form without a valid CSRF token: nothing changed. */
export function csrfRefused(c: Context, deps: HttpDeps): Response | Promise<Response> {
  deps.logger.warn('Admin form refused: missing or wrong CSRF token', { path: new URL(c.req.url).pathname })
  return c.html(
    simplePage({
      sandbox: deps.sandbox,
      title: 'This form has expired',
      message: 'Nothing was changed. Reload the page and try again.',
      back: '/admin',
    }),
    403,
  )
}

/** 303 to one of our own console paths, with a notice (naming `account`, looked up by the page). */
export function back(c: Context, path: string, code: NoticeCode, account?: string): Response {
  const separator = path.includes('?') ? '&' : '?'
  const options = account === undefined ? {} : { account }
  return c.redirect(`${path}${separator}${noticeQuery(code, options)}`, 303)
}

/** Runs an action, turning the service's expected refusals into notices. */
export async function attempt(
  c: Context,
  path: string,
  work: () => Promise<Response>,
  refusals: { notFound?: NoticeCode; badRequest: NoticeCode },
): Promise<Response> {
  try {
    return await work()
  } catch (error) {
    if (isServiceError(error) && error.code === 'NOT_FOUND')
      return back(c, path, refusals.notFound ?? 'not-found')
    // A conflict (an outcome still being recorded) is a refusal for now, said the same way.
    if (isServiceError(error) && (error.code === 'BAD_REQUEST' || error.code === 'CONFLICT'))
      return back(c, path, refusals.badRequest)
    throw error
  }
}

/**
 * A console path to go back to after an action: `/admin…`, visible ASCII,
 * no backslash, no `//` and no dot segment, also once percent-encoding is
 * decoded as a browser would (see `consolePath`). Anything else falls back,
 * so a crafted form cannot make an action redirect elsewhere.
 */
export function safeBack(value: string | undefined, fallback: string): string {
  if (value === undefined || value.includes('//') || /\/\.\.?(?:[/?#]|$)/.test(value)) return fallback
  const path = consolePath(value, ['/admin'])
  return path === undefined || path !== value.replace(/#.*$/, '') ? fallback : path
}
