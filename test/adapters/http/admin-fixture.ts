/**
 * A signed-in admin browser session against the real server, without a
 * browser: the session cookie from the sign-in form, the CSRF token from a
 * page, and form posts that do not follow redirects.
 */
import { cookieFrom } from '../../support/connect.ts'
import type { RunningService } from '../../support/service.ts'

export interface AdminBrowser {
  cookie: string
  get(path: string): Promise<Response>
  /** The page's HTML (after following redirects). */
  page(path: string): Promise<string>
  /** The CSRF token of the session, read from a page's forms. */
  csrf(): Promise<string>
  post(path: string, fields: Record<string, string>): Promise<Response>
}

export function csrfIn(html: string): string {
  const match = /name="csrf" value="([0-9a-f]+)"/.exec(html)
  if (!match) throw new Error('No CSRF token in the page')
  return match[1]!
}

export async function signIn(running: RunningService): Promise<AdminBrowser> {
  const response = await fetch(`${running.url}/admin/login`, {
    method: 'POST',
    body: new URLSearchParams({ token: running.adminToken, next: '/admin' }),
    redirect: 'manual',
  })
  const cookie = cookieFrom(response, 'admin_session')
  if (response.status !== 303 || !cookie) throw new Error(`Sign-in answered ${response.status}`)
  const browser: AdminBrowser = {
    cookie,
    get: (path) => fetch(`${running.url}${path}`, { headers: { Cookie: cookie }, redirect: 'manual' }),
    async page(path) {
      const answer = await fetch(`${running.url}${path}`, { headers: { Cookie: cookie } })
      return answer.text()
    },
    async csrf() {
      return csrfIn(await browser.page('/admin'))
    },
    post: (path, fields) =>
      fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: { Cookie: cookie },
        body: new URLSearchParams(fields),
        redirect: 'manual',
      }),
  }
  return browser
}

type MailRecord = Awaited<ReturnType<RunningService['client']['mail']['get']['query']>>

/**
 * The message once it reaches `status`. `mail.send` answers after its first
 * attempt or SEND_WAIT_MS, whichever comes first; on a loaded machine the
 * attempt can outlast the wait, so tests wait for the outcome itself.
 */
export async function settled(running: RunningService, id: string, status: string): Promise<MailRecord> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const record = await running.client.mail.get.query({ id })
    if (record.status === status) return record
    if (Date.now() > deadline) throw new Error(`The message is ${record.status}, not ${status}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
