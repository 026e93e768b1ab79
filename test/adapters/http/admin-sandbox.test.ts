import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectAccount } from '../../support/connect.ts'
import { startEmulator } from '../../support/emulator-server.ts'
import { type RunningService, startConnectedService, startService } from '../../support/service.ts'
import { type AdminBrowser, settled, signIn } from './admin-fixture.ts'

const PNG = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82])
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

describe('sandbox mailbox and faults pages', () => {
  let running: RunningService
  let admin: AdminBrowser
  let csrf: string
  let gmailId: string

  beforeAll(async () => {
    running = await startConnectedService({ GMAIL_SENDS_PER_MINUTE: '0' })
    admin = await signIn(running)
    csrf = await admin.csrf()
    const accepted = await running.client.mail.send.mutate({
      to: ['Jane Doe <jane@example.com>'],
      bcc: 'audit@example.com',
      subject: 'Welcome — Grüße',
      text: 'Hello Jane,\nwelcome aboard.',
      html: '<h1>Welcome</h1><p>Logo: <img src="cid:logo@example"></p><script>alert(1)</script>',
      attachments: [
        { filename: 'logo.png', content: b64(PNG), contentType: 'image/png', contentId: 'logo@example' },
        { filename: 'Résumé 2026.pdf', content: b64(new TextEncoder().encode('%PDF-1.4 résumé')) },
      ],
    })
    gmailId = (await settled(running, accepted.id, 'sent')).gmailMessageId!
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('lists what the emulated Gmail received: from, to, subject, time, size', async () => {
    const html = await admin.page('/admin/sandbox/mailbox')
    expect(html).toContain('<h1>Sandbox mailbox</h1>')
    expect(html).toContain('it keeps the newest 1000 messages (64.0 MB at most) and drops older ones')
    expect(html).toContain(`<a href="/admin/sandbox/mailbox/${gmailId}">Welcome — Grüße</a>`)
    expect(html).toContain('<td class="small">support@example.com</td>')
    expect(html).toContain('jane@example.com, audit@example.com')
    expect(html).toMatch(/<td class="num small">[\d.]+ KB<\/td>/)
    expect(html).toContain('<time datetime="')
    expect(html).toContain('<a href="/admin/sandbox/mailbox" aria-current="page">')
  })

  it('shows the HTML in a sandboxed frame with inline images, and the text, attachments and source', async () => {
    const html = await admin.page(`/admin/sandbox/mailbox/${gmailId}`)
    const frame = /<iframe sandbox title="HTML body of the message" srcdoc="([^"]*)"><\/iframe>/.exec(html)
    expect(frame).not.toBeNull()
    const srcdoc = frame![1]!
    expect(srcdoc).toContain('&lt;h1&gt;Welcome&lt;/h1&gt;')
    expect(srcdoc).toContain(`src=&quot;data:image/png;base64,${b64(PNG)}&quot;`)
    expect(html).toContain('<pre>Hello Jane,\nwelcome aboard.</pre>')
    expect(html).toContain(
      'href="/admin/sandbox/mailbox/' + gmailId + '/attachments/1" download>Résumé 2026.pdf</a>',
    )
    expect(html).toMatch(/<pre>From: support@example\.com\r?\nTo: Jane Doe &lt;jane@example\.com&gt;/)
    expect(html).toContain('Bcc: audit@example.com')
    expect(html).toContain(`href="/admin/sandbox/mailbox/${gmailId}/raw" download>Download .eml</a>`)
  })

  it('serves an attachment as a download with its name and exact bytes', async () => {
    const response = await admin.get(`/admin/sandbox/mailbox/${gmailId}/attachments/0`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('image/png')
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="logo.png"; filename*=UTF-8''logo.png`,
    )
    expect(response.headers.get('content-security-policy')).toContain('sandbox')
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(PNG)
    const pdf = await admin.get(`/admin/sandbox/mailbox/${gmailId}/attachments/1`)
    expect(pdf.headers.get('content-disposition')).toBe(
      `attachment; filename="R_sum_ 2026.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf`,
    )
    expect((await admin.get(`/admin/sandbox/mailbox/${gmailId}/attachments/9`)).status).toBe(404)
  })

  it('serves the raw source exactly as received', async () => {
    const response = await admin.get(`/admin/sandbox/mailbox/${gmailId}/raw`)
    expect(response.headers.get('content-type')).toBe('message/rfc822')
    const raw = running.service.sandbox!.control.message(gmailId)!.raw
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(raw)
  })

  it('revokes an account from the faults page, so that its next message is held', async () => {
    const page = await admin.page('/admin/sandbox/faults')
    expect(page).toContain('<option>support@example.com</option>')
    const response = await admin.post('/admin/sandbox/faults/revoke', { csrf, email: 'support@example.com' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe(
      '/admin/sandbox/faults?notice=token-revoked&subject=support%40example.com',
    )
    const held = await running.client.mail.send.mutate({ to: 'x@example.com', subject: 'Held', text: 'x' })
    await settled(running, held.id, 'held')
    await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control: running.service.sandbox!.control,
      email: 'support@example.com',
    })
    await settled(running, held.id, 'sent')
  })

  it('injects errors on send, which the service retries through', async () => {
    const control = running.service.sandbox!.control
    const before = control.stats().faultsInjected
    const response = await admin.post('/admin/sandbox/faults/inject', {
      csrf,
      count: '1',
      status: '500',
      endpoint: 'send',
    })
    expect(response.headers.get('location')).toContain('notice=faults-injected')
    const record = await running.client.mail.send.mutate({ to: 'y@example.com', subject: 'Bumpy', text: 'x' })
    expect((await settled(running, record.id, 'sent')).attempts).toBe(2)
    expect(control.stats().faultsInjected).toBe(before + 1)
  })

  it('sets and clears a random fault rate and the per-user quota, and shows what is on', async () => {
    await admin.post('/admin/sandbox/faults/rate', { csrf, percent: '25', status: '503', endpoint: 'send' })
    await admin.post('/admin/sandbox/faults/quota', { csrf, sendsPerMinute: '7' })
    const on = await admin.page('/admin/sandbox/faults')
    expect(on).toContain('<strong>25%</strong> of send requests answer 503')
    expect(on).toContain('<strong>7 sends a minute</strong>')
    await admin.post('/admin/sandbox/faults/rate/clear', { csrf })
    await admin.post('/admin/sandbox/faults/quota/clear', { csrf })
    const off = await admin.page('/admin/sandbox/faults')
    expect(off).toContain('Now: <strong>off</strong>.')
    expect(off).toContain('<strong>no quota</strong>')
    const sent = await running.client.mail.send.mutate({ to: 'z@example.com', subject: 'Calm', text: 'x' })
    expect((await settled(running, sent.id, 'sent')).attempts).toBe(1)
  })

  it('refuses values out of range and changes nothing', async () => {
    const before = running.service.sandbox!.control.stats().faultsInjected
    for (const fields of [
      { count: '0', status: '503', endpoint: 'send' },
      { count: '3', status: '200', endpoint: 'send' },
      { count: '3', status: '503', endpoint: 'gmail.example' },
    ]) {
      const response = await admin.post('/admin/sandbox/faults/inject', { csrf, ...fields })
      expect(response.headers.get('location')).toBe('/admin/sandbox/faults?notice=invalid')
    }
    const sent = await running.client.mail.send.mutate({
      to: 'w@example.com',
      subject: 'Still calm',
      text: 'x',
    })
    expect(sent.attempts).toBe(1)
    expect(running.service.sandbox!.control.stats().faultsInjected).toBe(before)
  })

  it('empties the mailbox only with the CSRF token', async () => {
    const refused = await admin.post('/admin/sandbox/mailbox/clear', {})
    expect(refused.status).toBe(403)
    expect(running.service.sandbox!.control.mailbox().length).toBeGreaterThan(0)
    const response = await admin.post('/admin/sandbox/mailbox/clear', { csrf })
    expect(response.headers.get('location')).toBe('/admin/sandbox/mailbox?notice=mailbox-emptied')
    expect(running.service.sandbox!.control.mailbox()).toEqual([])
    const html = await admin.page('/admin/sandbox/mailbox?notice=mailbox-emptied')
    expect(html).toContain('The sandbox mailbox was emptied.')
    expect(html).toContain('The mailbox is empty.')
    expect((await admin.get(`/admin/sandbox/mailbox/${gmailId}`)).status).toBe(404)
  })
})

describe('sandbox pages outside sandbox mode', () => {
  it('are not served, nor linked, when the service talks to a real Google', async () => {
    const google = await startEmulator()
    const running = await startService({
      GOOGLE_CLIENT_ID: 'client-id',
      GOOGLE_CLIENT_SECRET: 'client-secret',
      GOOGLE_AUTH_URL: google.endpoints.authUrl,
      GOOGLE_TOKEN_URL: google.endpoints.tokenUrl,
      GOOGLE_REVOKE_URL: google.endpoints.revokeUrl,
      GOOGLE_USERINFO_URL: google.endpoints.userinfoUrl,
      GMAIL_API_URL: google.endpoints.gmailApiUrl,
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    })
    try {
      const admin = await signIn(running)
      expect((await admin.get('/admin/sandbox/mailbox')).status).toBe(404)
      expect((await admin.get('/admin/sandbox/faults')).status).toBe(404)
      const console = await admin.page('/admin')
      expect(console).toContain('<h1>Console</h1>')
      expect(console).not.toContain('Sandbox mailbox')
      expect(console).not.toContain('nothing leaves the machine')
    } finally {
      await running.stop()
      await google.close()
    }
  })
})
