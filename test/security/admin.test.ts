/**
 * The admin's side: the session cookie's flags, expiry, tampering and
 * sign-out; CSRF and origin checks; and the headers and escaping of every
 * HTML page the service serves.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createAdminSessions, SESSION_LIFETIME_MS } from '../../src/adapters/http/admin-session.ts'
import { connectAccount } from '../support/connect.ts'
import { type RunningService, startService } from '../support/service.ts'
import { authorize, signIn } from './support.ts'

const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`

describe('the admin session', () => {
  let running: RunningService

  beforeAll(async () => {
    running = await startService({ GMAIL_SENDS_PER_MINUTE: '0' })
  })
  afterAll(async () => {
    await running?.stop()
  })

  const consoleWith = (cookie: string) =>
    fetch(`${running.url}/admin`, { headers: { Cookie: cookie }, redirect: 'manual' })

  it('signs in with an HttpOnly, SameSite=Strict, path-wide cookie that expires with the session (not Secure on http)', async () => {
    const { setCookie, cookie } = await signIn(running.url, running.adminToken)
    expect(setCookie).toMatch(/^admin_session=v1\.\d+\.[0-9a-f]+\.[0-9a-f]{64};/)
    expect(setCookie).toMatch(/; HttpOnly/i)
    expect(setCookie).toMatch(/; SameSite=Strict/i)
    expect(setCookie).toMatch(/; Path=\//i)
    expect(setCookie).toMatch(new RegExp(`; Max-Age=${SESSION_LIFETIME_MS / 1000}`))
    expect(setCookie).not.toMatch(/; Secure/i)
    expect((await consoleWith(cookie)).status).toBe(200)
  })

  it('follows only its own paths after sign-in (no open redirect)', async () => {
    for (const next of [
      '//evil.example/admin',
      'https://evil.example',
      '/admin\\@evil.example',
      '/admin/\r\nSet-Cookie:x=1',
      '/elsewhere',
    ]) {
      const response = await fetch(`${running.url}/admin/login`, {
        method: 'POST',
        body: new URLSearchParams({ token: running.adminToken, next }),
        redirect: 'manual',
      })
      expect(response.status, next).toBe(303)
      expect(response.headers.get('location'), next).toBe('/admin')
    }
    const page = await (
      await fetch(`${running.url}/admin/login?next=${encodeURIComponent('"><script>x</script>')}`)
    ).text()
    expect(page).toContain('name="next" value="/admin"')
    expect(page).not.toContain('<script>')
  })

  it('judges the path after sign-in as a browser resolves it: dot segments and percent-encoding first', async () => {
    const signInTo = async (next: string) => {
      const response = await fetch(`${running.url}/admin/login`, {
        method: 'POST',
        body: new URLSearchParams({ token: running.adminToken, next }),
        redirect: 'manual',
      })
      expect(response.status, next).toBe(303)
      return response.headers.get('location')!
    }
    for (const next of [
      '/admin/../..//evil.example',
      '/admin/..%2F..%2F/evil.example',
      '/\\evil.example',
      '/admin/%2e%2e//evil.example',
      '/admin/%2E%2E/%2e%2E//evil.example/x',
      '/admin/%252e%252e//evil.example',
      '/admin/.%2e/.%2e/evil.example',
      '/admin/%2F%2Fevil.example',
      '/admin/%5C%5Cevil.example',
      '/admin/%0d%0aSet-Cookie:x=1',
      '/oauth/login/../../evil.example',
      '/admin/%',
    ]) {
      const location = await signInTo(next)
      // Where a browser goes: this origin, under the console, and no `//` a proxy could take for a host.
      const target = new URL(location, running.url)
      expect(target.origin, next).toBe(new URL(running.url).origin)
      expect(target.pathname, next).toMatch(/^\/(admin|oauth\/login)(\/|$)/)
      expect(target.pathname, next).not.toContain('//')
      expect(location, next).not.toMatch(/evil|%2e|\.\.|\\|\r|\n/i)
    }
    // Ordinary console paths still come back, normalised.
    expect(await signInTo('/admin/messages?status=held')).toBe('/admin/messages?status=held')
    expect(await signInTo('/admin/./messages')).toBe('/admin/messages')
    expect(await signInTo('/oauth/login?login_hint=a%40example.com')).toBe(
      '/oauth/login?login_hint=a%40example.com',
    )
  })

  it('refuses a session that has expired', async () => {
    const { cookie } = await signIn(running.url, running.adminToken)
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + SESSION_LIFETIME_MS + 60_000)
      const response = await consoleWith(cookie)
      expect(response.status).toBe(302)
      expect(response.headers.get('location')).toMatch(/^\/admin\/login\?next=/)
    } finally {
      vi.useRealTimers()
    }
    expect((await consoleWith(cookie)).status).toBe(200)
  })

  it('refuses a tampered session: longer expiry, other signature, other admin token’s key, garbage', async () => {
    const { cookie } = await signIn(running.url, running.adminToken)
    const value = cookie.slice('admin_session='.length)
    const [version, expires, nonce, signature] = value.split('.') as [string, string, string, string]
    const foreign = await (await createAdminSessions('another-admin-token-0123456789')).issue(Date.now())
    for (const forged of [
      `${version}.${Number(expires) + 1}.${nonce}.${signature}`,
      `${version}.${expires}.${nonce}.${signature.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`,
      `${version}.${expires}.${nonce}`,
      foreign,
      'v1.99999999999999.aa.bb',
      'x'.repeat(5000),
    ]) {
      const response = await consoleWith(`admin_session=${forged}`)
      expect(response.status, forged.slice(0, 40)).toBe(302)
      expect(response.headers.get('location')).toMatch(/^\/admin\/login/)
    }
  })

  it('signs out: the cookie is cleared and that session no longer works', async () => {
    const { cookie, csrf } = await signIn(running.url, running.adminToken)
    const out = await fetch(`${running.url}/admin/logout`, {
      method: 'POST',
      headers: { Cookie: cookie },
      body: new URLSearchParams({ csrf }),
      redirect: 'manual',
    })
    expect(out.status).toBe(303)
    expect(out.headers.get('location')).toBe('/admin/login')
    expect(out.headers.getSetCookie().join()).toMatch(/admin_session=;.*Max-Age=0/i)
    expect((await consoleWith(cookie)).status).toBe(302)
  })

  it('lets a browser change state only with the CSRF token from its own pages', async () => {
    const { cookie, csrf } = await signIn(running.url, running.adminToken)
    const post = (headers: Record<string, string>, body?: BodyInit) =>
      fetch(`${running.url}/admin/sandbox/api/expire-access-tokens`, {
        method: 'POST',
        headers: { Cookie: cookie, ...headers },
        ...(body === undefined ? {} : { body }),
      })
    expect((await post({})).status).toBe(403)
    expect((await post({ 'X-CSRF-Token': 'f'.repeat(64) })).status).toBe(403)
    expect((await post({ 'X-CSRF-Token': csrf, Origin: 'https://evil.example' })).status).toBe(403)
    // Another session's token is no good either.
    const other = await signIn(running.url, running.adminToken)
    expect((await post({ 'X-CSRF-Token': other.csrf })).status).toBe(403)
    // The page's token passes the guard, as a header or as the form field.
    expect((await post({ 'X-CSRF-Token': csrf, Origin: running.url })).status).toBe(204)
    expect((await post({}, new URLSearchParams({ csrf }))).status).toBe(204)
    // A script with the bearer token needs none.
    const bearer = await fetch(`${running.url}/admin/sandbox/api/stats`, {
      headers: { Authorization: `Bearer ${running.adminToken}` },
    })
    expect(bearer.status).toBe(200)
  })
})

describe('the Secure flag', () => {
  it('marks the session and state cookies Secure when PUBLIC_URL is https', async () => {
    const running = await startService({ PUBLIC_URL: 'https://mail.example.test' })
    try {
      const login = await fetch(`${running.url}/admin/login`, {
        method: 'POST',
        body: new URLSearchParams({ token: running.adminToken }),
        redirect: 'manual',
      })
      expect(login.headers.getSetCookie().join()).toMatch(/admin_session=[^;]+;.*Secure/i)
      const start = await fetch(`${running.url}/oauth/login`, {
        headers: { Authorization: `Bearer ${running.adminToken}` },
        redirect: 'manual',
      })
      const stateCookie = start.headers.getSetCookie().find((header) => header.startsWith('oauth_state='))!
      expect(stateCookie).toMatch(/; Secure/i)
      expect(stateCookie).toMatch(/; HttpOnly/i)
      expect(stateCookie).toMatch(/; SameSite=Lax/i)
      expect(stateCookie).toMatch(/; Max-Age=600/i)
      expect(start.headers.get('strict-transport-security')).toBe('max-age=31536000')
    } finally {
      await running.stop()
    }
  })
})

describe('every HTML page', () => {
  let running: RunningService
  let cookie: string

  beforeAll(async () => {
    running = await startService({ GMAIL_SENDS_PER_MINUTE: '0' })
    const control = running.service.sandbox!.control
    await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control,
      email: 'pages@example.com',
    })
    // Hostile text in every field a page shows.
    await running.client.mail.send.mutate({
      to: `"${HOSTILE.replace(/"/g, '')}" <to@example.com>`,
      subject: HOSTILE,
      text: HOSTILE,
      html: `<p>${HOSTILE}</p>`,
      headers: { 'X-Note': HOSTILE },
      attachments: [{ filename: `${HOSTILE.replace(/"/g, '')}.txt`, content: 'aGVsbG8=' }],
    })
    cookie = (await signIn(running.url, running.adminToken)).cookie
  })
  afterAll(async () => {
    await running?.stop()
  })

  /** The pages reachable by GET links from the console (and a few others), with their answers. */
  async function crawl(): Promise<Map<string, { headers: Headers; text: string }>> {
    const pages = new Map<string, { headers: Headers; text: string }>()
    const flow = await authorize({
      url: running.url,
      adminToken: running.adminToken,
      control: running.service.sandbox!.control,
      email: 'pages@example.com',
    })
    const consent = new URL(flow.authorizationUrl)
    const queue = [
      '/admin',
      '/admin/login',
      '/oauth/callback?state=forged&code=x',
      `/oauth/callback?${new URLSearchParams({ state: flow.state, error: HOSTILE })}`,
      consent.pathname + consent.search,
    ]
    const stateCookie = flow.stateCookie
    while (queue.length > 0 && pages.size < 40) {
      const path = queue.shift()!
      if (pages.has(path)) continue
      const response = await fetch(`${running.url}${path}`, {
        headers: { Cookie: `${cookie}; ${stateCookie}` },
        redirect: 'manual',
      })
      const text = await response.text()
      pages.set(path, { headers: response.headers, text })
      if (!(response.headers.get('content-type') ?? '').startsWith('text/html')) continue
      for (const match of text.matchAll(/href="(\/[^"]*)"/g)) {
        const link = match[1]!.replace(/&amp;/g, '&')
        if (!link.startsWith('/oauth/login') && !pages.has(link)) queue.push(link)
      }
    }
    return pages
  }

  it('sends a strict CSP with frame-ancestors none, no referrer, no framing, no caching, and escapes what it shows', async () => {
    const pages = await crawl()
    const html = [...pages].filter(([, page]) =>
      (page.headers.get('content-type') ?? '').startsWith('text/html'),
    )
    // Console, sign-in, two callback failures, consent, and the sandbox pages linked from the console.
    expect(html.length).toBeGreaterThanOrEqual(6)
    for (const [path, page] of html) {
      const csp = page.headers.get('content-security-policy') ?? ''
      expect(csp, path).toContain("default-src 'none'")
      expect(csp, path).toContain("frame-ancestors 'none'")
      expect(csp, path).not.toMatch(/script-src[^;]*(unsafe-inline|unsafe-eval|\*)/)
      expect(page.headers.get('referrer-policy'), path).toBe('no-referrer')
      expect(page.headers.get('x-frame-options'), path).toBe('DENY')
      expect(page.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(page.headers.get('cache-control'), path).toBe('no-store')
      // Shown as text, never as markup: no raw tag from the hostile input survives.
      const raw = /<script|<img src=x/i.exec(page.text)
      expect(raw ? page.text.slice(Math.max(0, raw.index - 200), raw.index + 100) : '', path).toBe('')
    }
    const failure = html.find(([path]) => path.includes('error='))!
    expect(failure[1].text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('sends no-referrer, nosniff and no-store on JSON answers too, and no HSTS over http', async () => {
    const answer = await fetch(`${running.url}/healthz`)
    expect(answer.headers.get('referrer-policy')).toBe('no-referrer')
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.headers.get('strict-transport-security')).toBeNull()
  })
})
