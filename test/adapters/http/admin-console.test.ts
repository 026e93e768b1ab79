import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectAccount } from '../../support/connect.ts'
import { type RunningService, startService } from '../../support/service.ts'
import { type AdminBrowser, settled, signIn } from './admin-fixture.ts'

const HOSTILE = '<script>alert(1)</script> & "quotes"'
const SANDBOX_NOTE = 'nothing leaves the machine'

describe('admin console pages', () => {
  let running: RunningService
  let admin: AdminBrowser

  beforeAll(async () => {
    running = await startService({ GMAIL_SENDS_PER_MINUTE: '0' })
    const control = running.service.sandbox!.control
    for (const email of ['support@example.com', 'sales@example.com']) {
      await connectAccount({ url: running.url, adminToken: running.adminToken, control, email })
    }
    admin = await signIn(running)
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('sends a browser without a session to the sign-in form, keeping where it was going', async () => {
    for (const path of ['/admin', '/admin/messages?status=held', '/admin/sandbox/mailbox']) {
      const response = await fetch(`${running.url}${path}`, { redirect: 'manual' })
      expect(response.status).toBe(302)
      expect(response.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent(path)}`)
    }
  })

  it('shows the accounts with their status, scopes, default and actions', async () => {
    const html = await admin.page('/admin')
    expect(html).toContain('<h1>Console</h1>')
    expect(html).toContain('support@example.com</strong><span class="tag">default</span>')
    expect(html).toContain('status-connected')
    expect(html).toContain('<code title="https://www.googleapis.com/auth/gmail.send">gmail.send</code>')
    expect(html).toContain('href="/oauth/login">Connect an account</a>')
    expect(html).toContain('href="/oauth/login?login_hint=sales%40example.com">Reauthorize')
    expect(html).toContain('action="/admin/accounts/default"')
    expect(html).toContain('<input type="hidden" name="email" value="sales@example.com">')
    expect(html).toContain('href="/admin/accounts/disconnect?email=sales%40example.com"')
    expect(html).toContain(SANDBOX_NOTE)
    expect(html).toContain('<a href="/admin" aria-current="page">Console</a>')
  })

  it('answers scripts that present the bearer admin token', async () => {
    const response = await fetch(`${running.url}/admin`, {
      headers: { Authorization: `Bearer ${running.adminToken}` },
    })
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('<h1>Console</h1>')
  })

  it('escapes a hostile subject on every page that shows it', async () => {
    const accepted = await running.client.mail.send.mutate({
      to: 'jane@example.com',
      subject: HOSTILE,
      text: 'hi',
      html: `<p>${HOSTILE}</p>`,
    })
    const record = await settled(running, accepted.id, 'sent')
    const pages = [
      '/admin',
      '/admin/messages',
      `/admin/messages/${record.id}`,
      '/admin/sandbox/mailbox',
      `/admin/sandbox/mailbox/${record.gmailMessageId}`,
    ]
    for (const path of pages) {
      const html = await admin.page(path)
      expect(html, path).not.toContain('<script>alert(1)</script>')
      expect(html, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;')
    }
  })

  it('counts messages by status and links each count to the filtered list', async () => {
    const html = await admin.page('/admin')
    expect(html).toMatch(
      /<a class="count-sent" href="\/admin\/messages\?status=sent"><span class="n">[1-9]\d*<\/span><span class="l">sent<\/span>/,
    )
    expect(html).toContain(
      '<a class="count-canceled zero" href="/admin/messages?status=canceled"><span class="n">0</span>',
    )
  })

  it('warns when an account needs reauthorization and says how many messages are held for it', async () => {
    running.service.sandbox!.control.revokeAccount('sales@example.com')
    const first = await running.client.mail.send.mutate({
      from: 'sales@example.com',
      to: 'a@example.com',
      subject: 'One',
      text: 'x',
    })
    const second = await running.client.mail.send.mutate({
      from: 'sales@example.com',
      to: 'b@example.com',
      subject: 'Two',
      text: 'x',
    })
    await settled(running, first.id, 'held')
    await settled(running, second.id, 'held')
    const html = await admin.page('/admin')
    expect(html).toContain(
      '<div class="banner" role="alert"><p><strong>sales@example.com</strong> needs reauthorization',
    )
    expect(html).toContain('2 messages are held for it')
    expect(html).toContain('status-reauthorization_required')
    expect(html).toContain('Last error: <code>REAUTHORIZATION_REQUIRED</code>')
  })

  it('shows the notice of the OAuth callback and ignores notices it does not know', async () => {
    const connected = await admin.page('/admin?notice=connected&subject=support%40example.com&released=2')
    expect(connected).toContain('Connected support@example.com. 2 held messages were released for sending.')
    const made = await admin.page('/admin?notice=made-default&subject=support%40example.com')
    expect(made).toContain('support@example.com is now the default account.')
    const unknown = await admin.page('/admin?notice=Your+token+leaked&subject=x')
    expect(unknown).not.toContain('Your token leaked')
    expect(unknown).not.toContain('class="banner success"')
  })

  it('shows no text of a crafted link in a banner: codes only, names only from the accounts store', async () => {
    const bait = 'your account was compromised, visit https://evil.example/reset'
    const bannerOf = (html: string) =>
      /<div class="banner[^"]*"[^>]*><p>([\s\S]*?)<\/p><\/div>/.exec(html)?.[1]
    for (const path of [
      `/admin?connected=${encodeURIComponent(bait)}`,
      `/admin?connected=${encodeURIComponent(bait)}&released=2`,
      `/admin?notice=connected&subject=${encodeURIComponent(bait)}`,
      `/admin?notice=made-default&subject=${encodeURIComponent(bait)}`,
      `/admin?notice=disconnected&subject=${encodeURIComponent(bait)}`,
      `/admin?notice=x&subject=${encodeURIComponent(bait)}`,
      `/admin?notice=connected&subject=support%40example.com&released=${encodeURIComponent(`2 ${bait}`)}`,
      `/admin/sandbox/faults?notice=faults-injected&subject=${encodeURIComponent(bait)}`,
      `/admin/sandbox/faults?notice=token-revoked&subject=${encodeURIComponent(bait)}`,
      `/admin/sandbox/faults?notice=quota-set&subject=${encodeURIComponent(bait)}`,
    ]) {
      const html = await admin.page(path)
      expect(html, path).not.toContain('evil.example')
      expect(html, path).not.toContain('compromised')
    }
    // A real account the action did not leave in that state is not named either.
    const notDefault = await admin.page('/admin?notice=made-default&subject=sales%40example.com')
    expect(bannerOf(notDefault)).toBe('The account is now the default account.')
    const notRevoked = await admin.page('/admin?notice=disconnected&subject=sales%40example.com')
    expect(bannerOf(notRevoked)).not.toContain('sales@example.com')
    const stranger = await admin.page('/admin?notice=connected&subject=stranger%40example.com')
    expect(bannerOf(stranger)).toBe('The account was connected.')
  })

  it('shows a failed OAuth callback in the console look with a way to try again and a way back', async () => {
    const response = await fetch(`${running.url}/oauth/callback?error=access_denied&state=nope`)
    expect(response.status).toBe(400)
    const html = await response.text()
    expect(html).toContain(SANDBOX_NOTE)
    expect(html).toContain('>Try again</a>')
    expect(html).toContain('href="/admin">Back to the console</a>')
  })

  it('serves its pages with a CSP that allows no script and no remote fetch', async () => {
    const response = await admin.get('/admin')
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('unsafe-eval')
    expect(response.headers.get('cache-control')).toBe('no-store')
  })
})
