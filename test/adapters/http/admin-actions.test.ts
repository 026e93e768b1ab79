import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectAccount } from '../../support/connect.ts'
import { type RunningService, startService } from '../../support/service.ts'
import { type AdminBrowser, settled, signIn } from './admin-fixture.ts'

describe('admin console actions', () => {
  let running: RunningService
  let admin: AdminBrowser
  let csrf: string

  const defaultAccount = async () =>
    (await running.client.accounts.list.query()).find((account) => account.isDefault)?.email

  beforeAll(async () => {
    running = await startService({ GMAIL_SENDS_PER_MINUTE: '0' })
    const control = running.service.sandbox!.control
    for (const email of ['support@example.com', 'sales@example.com', 'ops@example.com']) {
      await connectAccount({ url: running.url, adminToken: running.adminToken, control, email })
    }
    admin = await signIn(running)
    csrf = await admin.csrf()
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('refuses a form without the CSRF token, or with a wrong one, and changes nothing', async () => {
    const before = await defaultAccount()
    const missing = await admin.post('/admin/accounts/default', { email: 'sales@example.com' })
    expect(missing.status).toBe(403)
    const wrong = await admin.post('/admin/accounts/default', {
      email: 'sales@example.com',
      csrf: 'ab'.repeat(32),
    })
    expect(wrong.status).toBe(403)
    expect(await defaultAccount()).toBe(before)
  })

  it('refuses a form from nobody signed in', async () => {
    const response = await fetch(`${running.url}/admin/accounts/default`, {
      method: 'POST',
      body: new URLSearchParams({ email: 'sales@example.com', csrf }),
      redirect: 'manual',
    })
    expect(response.status).toBe(401)
  })

  it('makes an account the default and answers 303 back to the console with a notice', async () => {
    const response = await admin.post('/admin/accounts/default', { email: 'sales@example.com', csrf })
    expect(response.status).toBe(303)
    const location = response.headers.get('location')!
    expect(location).toBe('/admin?notice=made-default&subject=sales%40example.com')
    expect(await defaultAccount()).toBe('sales@example.com')
    expect(await admin.page(location)).toContain('sales@example.com is now the default account.')
  })

  it('lets a script with the bearer admin token act without a CSRF token', async () => {
    const response = await fetch(`${running.url}/admin/accounts/default`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${running.adminToken}` },
      body: new URLSearchParams({ email: 'support@example.com' }),
      redirect: 'manual',
    })
    expect(response.status).toBe(303)
    expect(await defaultAccount()).toBe('support@example.com')
  })

  it('takes the session’s CSRF token as the X-CSRF-Token header instead of the form field', async () => {
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      fetch(`${running.url}/admin/accounts/default`, {
        method: 'POST',
        headers: { Cookie: admin.cookie, ...headers },
        body: new URLSearchParams(fields),
        redirect: 'manual',
      })
    const wrong = await post({ 'X-CSRF-Token': 'ab'.repeat(32) }, { email: 'sales@example.com' })
    expect(wrong.status).toBe(403)
    expect(await defaultAccount()).toBe('support@example.com')
    const header = await post({ 'X-CSRF-Token': csrf }, { email: 'sales@example.com' })
    expect(header.status).toBe(303)
    expect(header.headers.get('location')).toBe('/admin?notice=made-default&subject=sales%40example.com')
    expect(await defaultAccount()).toBe('sales@example.com')
    const field = await post({}, { email: 'support@example.com', csrf })
    expect(field.status).toBe(303)
    expect(await defaultAccount()).toBe('support@example.com')
  })

  it('says so when the account to make default does not exist', async () => {
    const response = await admin.post('/admin/accounts/default', { email: 'nobody@example.com', csrf })
    expect(response.headers.get('location')).toBe('/admin?notice=not-found')
  })

  it('asks before disconnecting, then revokes the token at Google and keeps the account listed', async () => {
    const confirm = await admin.page('/admin/accounts/disconnect?email=ops%40example.com')
    expect(confirm).toContain('<h1>Disconnect ops@example.com?</h1>')
    expect(confirm).toContain('action="/admin/accounts/disconnect"')
    const revokesBefore = running.service.sandbox!.control.stats().calls.revoke
    const response = await admin.post('/admin/accounts/disconnect', { email: 'ops@example.com', csrf })
    expect(response.headers.get('location')).toBe('/admin?notice=disconnected&subject=ops%40example.com')
    expect(await admin.page(response.headers.get('location')!)).toContain(
      'ops@example.com was disconnected and its token revoked at Google.',
    )
    expect(running.service.sandbox!.control.stats().calls.revoke).toBe(revokesBefore + 1)
    const accounts = await running.client.accounts.list.query()
    expect(accounts.find((account) => account.email === 'ops@example.com')?.status).toBe('revoked')
    const page = await admin.page('/admin')
    expect(page).toContain('status-revoked')
    expect(page).toContain('>Connect again<')
  })

  it('cancels a scheduled message and refuses to cancel a sent one', async () => {
    const later = await running.client.mail.send.mutate({
      to: 'a@example.com',
      subject: 'Later',
      text: 'x',
      sendAt: new Date(Date.now() + 3_600_000).toISOString(),
    })
    expect(later.status).toBe('scheduled')
    const detail = `/admin/messages/${later.id}`
    const canceled = await admin.post(`${detail}/cancel`, { csrf, back: detail })
    expect(canceled.status).toBe(303)
    expect(canceled.headers.get('location')).toBe(`${detail}?notice=canceled`)
    expect((await running.client.mail.get.query({ id: later.id })).status).toBe('canceled')

    const sent = await running.client.mail.send.mutate({ to: 'b@example.com', subject: 'Now', text: 'x' })
    await settled(running, sent.id, 'sent')
    const refused = await admin.post(`/admin/messages/${sent.id}/cancel`, { csrf, back: '/admin' })
    expect(refused.headers.get('location')).toBe('/admin?notice=cancel-refused')
    expect(await admin.page('/admin?notice=cancel-refused')).toContain(
      'Only a queued, scheduled or held message can be canceled',
    )
  })

  it('retries a failed message, which then goes out', async () => {
    running.service.sandbox!.control.injectFaults('send', [{ kind: 'status', status: 400 }])
    const failed = await running.client.mail.send.mutate({
      to: 'c@example.com',
      subject: 'Rejected',
      text: 'x',
    })
    await settled(running, failed.id, 'failed')
    const page = await admin.page(`/admin/messages/${failed.id}`)
    expect(page).toContain(`action="/admin/messages/${failed.id}/retry"`)
    const response = await admin.post(`/admin/messages/${failed.id}/retry`, { csrf, back: '/admin/messages' })
    expect(response.headers.get('location')).toBe('/admin/messages?notice=retried')
    await settled(running, failed.id, 'sent')
    const again = await admin.post(`/admin/messages/${failed.id}/retry`, { csrf })
    expect(again.headers.get('location')).toBe(`/admin/messages/${failed.id}?notice=retry-refused`)
  })

  it('never redirects an action outside the console', async () => {
    const sent = await running.client.mail.send.mutate({ to: 'd@example.com', subject: 'x', text: 'x' })
    await settled(running, sent.id, 'sent')
    for (const back of [
      'https://evil.example/',
      '//evil.example/admin',
      '/admin/../oauth',
      '/admin/./x',
      '/adminx',
      '/admin\\\\evil',
    ]) {
      const response = await admin.post(`/admin/messages/${sent.id}/cancel`, { csrf, back })
      const location = response.headers.get('location')!
      expect(location.startsWith(`/admin/messages/${sent.id}?`), back).toBe(true)
    }
  })
})
