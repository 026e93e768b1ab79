import { TRPCClientError } from '@trpc/client'
import PostalMime from 'postal-mime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient } from '../../src/client.ts'
import { connectAccount } from '../support/connect.ts'
import { type RunningService, startService } from '../support/service.ts'

const PNG = Uint8Array.from([
  137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
])
const PDF = new TextEncoder().encode('%PDF-1.4\n% résumé\n'.repeat(50))
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

describe('sandbox end to end: connect, send, receive', () => {
  let running: RunningService

  beforeAll(async () => {
    running = await startService()
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('refuses mail before any account is connected', async () => {
    const error = await running.client.mail.send
      .mutate({ to: 'a@example.com', subject: 'x', text: 'y' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(TRPCClientError)
    expect(error.data.code).toBe('ACCOUNT_NOT_CONNECTED')
  })

  it('connects an account through /oauth/login and /oauth/callback', async () => {
    const control = running.service.sandbox!.control
    const result = await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control,
      email: 'Support@Example.com',
    })
    expect(result.callbackStatus).toBe(302)
    expect(result.location).toBe('/admin?notice=connected&subject=support%40example.com')
    const accounts = await running.client.accounts.list.query()
    expect(accounts).toEqual([
      expect.objectContaining({ email: 'support@example.com', status: 'connected', isDefault: true }),
    ])
    expect(accounts[0]!.scopes).toContain('https://www.googleapis.com/auth/gmail.send')
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200)
  })

  it('sends a rich message whose raw bytes parse back to the input, field by field', async () => {
    const record = await running.client.mail.send.mutate({
      from: 'Support Team <support@example.com>',
      to: ['"Doe, Jane" <jane@example.com>', 'Zoë Ünïcode <zoe@example.org>'],
      cc: 'carl@example.net',
      bcc: ['hidden@example.com'],
      replyTo: 'help@example.com',
      subject: 'Grüße aus Köln — 你好 📨',
      text: 'Hallo Jane,\nça va? Ünïcödé text that is long enough to be folded by quoted-printable encoding at 76 characters.\n',
      html: '<p>Hallo <b>Jane</b> — <img src="cid:logo@example"></p>',
      attachments: [
        { filename: 'logo.png', content: b64(PNG), contentType: 'image/png', contentId: 'logo@example' },
        { filename: 'Résumé 2026.pdf', content: b64(PDF) },
      ],
      headers: { 'X-Campaign': 'welcome' },
    })
    expect(record).toMatchObject({ status: 'sent', attempts: 1, to: expect.any(Array) })
    expect(record.gmailMessageId).toBeTruthy()

    const received = running.service.sandbox!.control.message(record.gmailMessageId!)!
    expect(received.via).toBe('json')
    const parsed = await PostalMime.parse(received.raw)
    expect(parsed.from).toMatchObject({ name: 'Support Team', address: 'support@example.com' })
    expect(parsed.to).toEqual([
      { name: 'Doe, Jane', address: 'jane@example.com' },
      { name: 'Zoë Ünïcode', address: 'zoe@example.org' },
    ])
    expect(parsed.cc).toEqual([{ name: '', address: 'carl@example.net' }])
    expect(parsed.bcc).toEqual([{ name: '', address: 'hidden@example.com' }])
    expect(parsed.replyTo).toEqual([{ name: '', address: 'help@example.com' }])
    expect(parsed.subject).toBe('Grüße aus Köln — 你好 📨')
    // postal-mime keeps the line break before the boundary; the text itself must match exactly.
    expect(parsed.text?.replace(/\r\n/g, '\n').trimEnd()).toBe(
      'Hallo Jane,\nça va? Ünïcödé text that is long enough to be folded by quoted-printable encoding at 76 characters.',
    )
    expect(parsed.html).toContain('<img src="cid:logo@example">')
    const logo = parsed.attachments.find((a) => a.filename === 'logo.png')!
    expect(logo.contentId).toBe('<logo@example>')
    expect(new Uint8Array(logo.content as ArrayBuffer)).toEqual(PNG)
    const pdf = parsed.attachments.find((a) => a.filename === 'Résumé 2026.pdf')!
    expect(pdf.mimeType).toBe('application/pdf')
    expect(new Uint8Array(pdf.content as ArrayBuffer)).toEqual(PDF)
    expect(parsed.headers.find((h) => h.key === 'x-campaign')?.value).toBe('welcome')
    expect(parsed.messageId).toMatch(/^<.+@example\.com>$/)
  })

  it('replies into a thread with threadId, In-Reply-To and References', async () => {
    const first = await running.client.mail.send.mutate({
      to: 'jane@example.com',
      subject: 'Order 42',
      text: 'Hello',
    })
    const reply = await running.client.mail.send.mutate({
      to: 'jane@example.com',
      subject: 'Re: Order 42',
      text: 'Following up',
      threadId: first.gmailThreadId!,
      inReplyTo: '<original@example.com>',
      references: ['<original@example.com>'],
    })
    expect(reply.gmailThreadId).toBe(first.gmailThreadId)
    const parsed = await PostalMime.parse(
      running.service.sandbox!.control.message(reply.gmailMessageId!)!.raw,
    )
    expect(parsed.inReplyTo).toBe('<original@example.com>')
    expect(parsed.references).toBe('<original@example.com>')
  })

  it('sends a 12 MB attachment through the upload endpoint', async () => {
    const big = new Uint8Array(12 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251
    const record = await running.client.mail.send.mutate({
      to: 'jane@example.com',
      subject: 'Big file',
      text: 'Attached',
      attachments: [{ filename: 'big.bin', content: b64(big) }],
    })
    expect(record.status).toBe('sent')
    const received = running.service.sandbox!.control.message(record.gmailMessageId!)!
    expect(received.via).toBe('media')
    const parsed = await PostalMime.parse(received.raw)
    expect(new Uint8Array(parsed.attachments[0]!.content as ArrayBuffer)).toEqual(big)
  })

  it('refuses a 36 MiB message with PAYLOAD_TOO_LARGE and no Gmail call', async () => {
    const before = running.service.sandbox!.control.stats().calls
    const huge = new Uint8Array(36 * 1024 * 1024)
    const error = await running.client.mail.send
      .mutate({
        to: 'jane@example.com',
        subject: 'Too big',
        text: 'x',
        attachments: [{ filename: 'huge.bin', content: b64(huge) }],
      })
      .catch((e) => e)
    expect(
      error.data?.code,
      `${error.message} ${error.cause?.cause?.code} ${error.cause?.cause?.message}`,
    ).toBe('PAYLOAD_TOO_LARGE')
    const after = running.service.sandbox!.control.stats().calls
    expect(after.send + after.upload).toBe(before.send + before.upload)
  })

  it('refuses calls without the right API key', async () => {
    const anonymous = createMailClient({ url: `${running.url}/trpc`, apiKey: 'wrong-key-wrong-key' })
    const error = await anonymous.accounts.list.query().catch((e) => e)
    expect(error.data.code).toBe('UNAUTHORIZED')
    expect(error.data.httpStatus).toBe(401)
  })

  it('refuses an unknown field instead of dropping it', async () => {
    const error = await running.client.mail.send
      .mutate({ to: 'jane@example.com', subject: 'x', text: 'y', colour: 'blue' } as never)
      .catch((e) => e)
    expect(error.data.code).toBe('BAD_REQUEST')
    expect(error.message).toContain('colour')
  })
})
