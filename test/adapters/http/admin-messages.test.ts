import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningService, startConnectedService } from '../../support/service.ts'
import { type AdminBrowser, settled, signIn } from './admin-fixture.ts'

const rows = (html: string) => html.match(/<td class="message">/g)?.length ?? 0

describe('admin console message pages', () => {
  let running: RunningService
  let admin: AdminBrowser

  beforeAll(async () => {
    running = await startConnectedService({ GMAIL_SENDS_PER_MINUTE: '0' })
    admin = await signIn(running)
    await running.client.mail.sendBatch.mutate({
      messages: Array.from({ length: 28 }, (_, index) => ({
        to: `reader${index}@example.com`,
        subject: `Newsletter ${index}`,
        text: 'x',
      })),
    })
    await running.client.mail.send.mutate({
      to: 'later@example.com',
      subject: 'Scheduled one',
      text: 'x',
      sendAt: new Date(Date.now() + 3_600_000).toISOString(),
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('pages through every message, newest first, with the cursor', async () => {
    const first = await admin.page('/admin/messages')
    expect(rows(first)).toBe(25)
    expect(first.indexOf('Scheduled one')).toBeLessThan(first.indexOf('Newsletter 27'))
    const next = /href="(\/admin\/messages\?cursor=[^"]+)" rel="next"/.exec(first)?.[1]
    expect(next).toBeDefined()
    const second = await admin.page(next!.replaceAll('&amp;', '&'))
    expect(rows(second)).toBe(4)
    expect(second).not.toContain('rel="next"')
    expect(second).toContain('href="/admin/messages">Newest</a>')
  })

  it('filters by status and keeps the filter while paging', async () => {
    const scheduled = await admin.page('/admin/messages?status=scheduled')
    expect(rows(scheduled)).toBe(1)
    expect(scheduled).toContain('Scheduled one')
    expect(scheduled).toContain('<option value="scheduled" selected>scheduled (1)</option>')
    const sent = await admin.page('/admin/messages?status=sent')
    expect(rows(sent)).toBe(25)
    expect(sent).toMatch(/href="\/admin\/messages\?status=sent&amp;cursor=[^"]+" rel="next"/)
    expect(sent).not.toContain('Scheduled one')
  })

  it('starts from the newest when the cursor is damaged', async () => {
    const response = await admin.get('/admin/messages?status=sent&cursor=not-a-cursor')
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/admin/messages?status=sent')
  })

  it("shows a message's envelope, Gmail ids and the timeline of its attempts", async () => {
    running.service.sandbox!.control.injectFaults('send', [{ kind: 'status', status: 503 }])
    const record = await running.client.mail.send.mutate({
      to: ['Jane Doe <jane@example.com>'],
      cc: 'carl@example.net',
      subject: 'Detailed',
      text: 'x',
    })
    const sent = await settled(running, record.id, 'sent')
    const html = await admin.page(`/admin/messages/${record.id}`)
    expect(html).toContain('<h1>Detailed</h1>')
    expect(html).toContain('<dt>Cc</dt><dd>carl@example.net</dd>')
    expect(html).toMatch(/<dt>Message-ID<\/dt><dd class="mono">&lt;[^<]+@[^<]+&gt;<\/dd>/)
    expect(html).toMatch(/<dt>Size<\/dt><dd>\d+ B<\/dd>/)
    expect(html).toContain(
      `<a href="/admin/sandbox/mailbox/${sent.gmailMessageId}">${sent.gmailMessageId}</a>`,
    )
    expect(html).toContain('<strong>Accepted</strong>')
    expect(html).toContain('<li class="retry"><strong>Attempt failed; will retry</strong>')
    expect(html).toContain('<code>GMAIL_UNAVAILABLE</code>')
    expect(html).toContain('<li class="sent"><strong>Sent: Gmail accepted the message</strong>')
    expect(html).not.toContain('/retry"')
    expect(html).not.toContain('/cancel"')
  })

  it('offers Cancel on a scheduled message and nothing else', async () => {
    const list = await admin.page('/admin/messages?status=scheduled')
    const id = /href="\/admin\/messages\/([^"]+)">Scheduled one</.exec(list)![1]!
    const html = await admin.page(`/admin/messages/${id}`)
    expect(html).toContain(`action="/admin/messages/${id}/cancel"`)
    expect(html).toContain('<strong>Scheduled</strong> for <time')
    expect(html).not.toContain('/retry"')
  })

  it('answers an unknown message id with a page that leads back', async () => {
    const response = await admin.get('/admin/messages/no-such-id')
    expect(response.status).toBe(404)
    expect(await response.text()).toContain('href="/admin/messages">All messages</a>')
  })
})
