/**
 * Scoped keys through the real server and a real tRPC client. A contact
 * form's key (`mail.send` only, from support@ only, to @example.com only,
 * one origin, 30 a minute) is refused, FORBIDDEN naming the rule, for every
 * other procedure, account, recipient (cc and bcc too) and origin, with
 * nothing stored, and gets 429 past its own rate; CORS answers its origin.
 * Idempotency keys are each key's own, and a key limited to procedures
 * reads and cancels only its own messages.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient, type MailClient } from '../../src/client.ts'
import { connectAccount } from '../support/connect.ts'
import { refusalOf } from '../support/refusal.ts'
import { type RunningService, startConnectedService } from '../support/service.ts'

const SHOP = 'https://shop.example'
const CONTACT_SCOPE = {
  procedures: ['mail.send' as const],
  from: ['support@example.com'],
  recipients: ['@example.com'],
  origins: [SHOP],
  ratePerMinute: 30,
}
const FORM = {
  from: 'support@example.com',
  to: 'visitor@example.com',
  subject: 'Contact form',
  text: 'Hello',
}

const forbidden = (message: string) => ({ code: 'FORBIDDEN', httpStatus: 403, message })

describe('a scoped key, through the real server', () => {
  let running: RunningService
  let admin: MailClient
  /** A client for `key`, sending `Origin: origin` on every request when given (as a browser would). */
  const clientWith = (key: string, origin?: string) =>
    createMailClient({
      url: `${running.url}/trpc`,
      apiKey: key,
      retries: 0,
      fetch: (input, init) => {
        const headers = new Headers(init?.headers)
        if (origin !== undefined) headers.set('Origin', origin)
        return fetch(input, { ...init, headers })
      },
    })
  /** Every message, as the full-access configured key sees them. */
  const storedIds = async () =>
    (await running.client.mail.list.query({ limit: 100 })).items.map((item) => item.id)

  beforeAll(async () => {
    running = await startConnectedService()
    const control = running.service.sandbox!.control
    const second = await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control,
      email: 'sales@example.com',
    })
    expect(second.callbackStatus).toBe(302)
    admin = createMailClient({ url: `${running.url}/trpc`, apiKey: running.adminToken, retries: 0 })
  })
  afterAll(async () => {
    await running?.stop()
  })

  describe("a contact form's key", () => {
    let contact: { id: string; key: string }
    let form: MailClient
    beforeAll(async () => {
      contact = await admin.admin.keys.create.mutate({ name: 'Contact form', scope: CONTACT_SCOPE })
      form = clientWith(contact.key, SHOP)
    })

    it('sends from its page, records which key sent it, and the console shows that key', async () => {
      const record = await form.mail.send.mutate(FORM)
      expect(record).toMatchObject({
        status: 'sent',
        from: 'support@example.com',
        to: ['visitor@example.com'],
      })
      const page = await fetch(`${running.url}/admin/messages/${record.id}`, {
        headers: { Authorization: `Bearer ${running.adminToken}` },
      })
      expect(page.status).toBe(200)
      const html = await page.text()
      expect(html).toContain(`<span class="mono" data-key-id>${contact.id}</span> · Contact form`)
      expect(html).not.toContain(contact.key)
    })

    it('cannot read mail, list accounts or send a batch: FORBIDDEN naming the rule, before the body is read', async () => {
      const before = await storedIds()
      const [sent] = before
      const calls: Array<[() => Promise<unknown>, string]> = [
        [() => form.mail.get.query({ id: sent! }), 'mail.get'],
        [() => form.mail.list.query({}), 'mail.list'],
        [() => form.mail.cancel.mutate({ id: sent! }), 'mail.cancel'],
        [() => form.accounts.list.query(), 'accounts.list'],
        [() => form.mail.sendBatch.mutate({ messages: [FORM] }), 'mail.sendBatch'],
      ]
      for (const [call, path] of calls) {
        expect(await refusalOf(call()), path).toEqual(
          forbidden(`This key may call only mail.send; ${path} is outside it`),
        )
      }
      // One batch (mutations batch together) naming mail.send beside mail.cancel is refused
      // whole, each call told why.
      const [send, cancel] = await Promise.all([
        refusalOf(form.mail.send.mutate(FORM)),
        refusalOf(form.mail.cancel.mutate({ id: sent! })),
      ])
      expect(cancel).toEqual(forbidden('This key may call only mail.send; mail.cancel is outside it'))
      expect(send).toEqual(
        forbidden(
          'The batch was refused whole, nothing done: This key may call only mail.send; mail.cancel is outside it',
        ),
      )
      expect(await storedIds()).toEqual(before)
    })

    it('cannot send from another account, or to anyone outside @example.com in to, cc or bcc', async () => {
      const before = await storedIds()
      expect(await refusalOf(form.mail.send.mutate({ ...FORM, from: 'sales@example.com' }))).toEqual(
        forbidden('This key may send only from support@example.com; from sales@example.com is outside it'),
      )
      // Not even a hint of whether an account exists.
      expect(await refusalOf(form.mail.send.mutate({ ...FORM, from: 'nobody@example.org' }))).toEqual(
        forbidden('This key may send only from support@example.com; from nobody@example.org is outside it'),
      )
      expect(await refusalOf(form.mail.send.mutate({ ...FORM, to: 'victim@other.com' }))).toEqual(
        forbidden('This key may send only to @example.com; to victim@other.com is outside it'),
      )
      expect(
        await refusalOf(form.mail.send.mutate({ ...FORM, cc: ['ok@example.com', 'Spy <spy@other.com>'] })),
      ).toEqual(forbidden('This key may send only to @example.com; cc spy@other.com is outside it'))
      expect(await refusalOf(form.mail.send.mutate({ ...FORM, bcc: 'boss@other.com' }))).toEqual(
        forbidden('This key may send only to @example.com; bcc boss@other.com is outside it'),
      )
      expect(await refusalOf(form.mail.send.mutate({ ...FORM, to: 'x@sub.example.com' }))).toMatchObject({
        code: 'FORBIDDEN',
      })
      expect(await storedIds()).toEqual(before)
      expect(running.service.sandbox!.control.mailbox().length).toBe(1)
    })

    it('is refused from another origin and without one', async () => {
      const before = await storedIds()
      expect(await refusalOf(clientWith(contact.key, 'https://evil.example').mail.send.mutate(FORM))).toEqual(
        forbidden(
          'This key may be used only from https://shop.example; the Origin https://evil.example is outside it',
        ),
      )
      expect(await refusalOf(clientWith(contact.key).mail.send.mutate(FORM))).toEqual(
        forbidden(
          'This key may be used only from https://shop.example; the request carries no Origin header',
        ),
      )
      expect(await storedIds()).toEqual(before)
    })

    it("answers a preflight from the key's origin and gives its answers CORS headers, and none to another origin", async () => {
      const preflight = (origin: string) =>
        fetch(`${running.url}/trpc/mail.send`, {
          method: 'OPTIONS',
          headers: {
            Origin: origin,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'authorization, content-type',
          },
        })
      const allowed = await preflight(SHOP)
      expect(allowed.status).toBe(204)
      expect(allowed.headers.get('access-control-allow-origin')).toBe(SHOP)
      expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Authorization/)
      const other = await preflight('https://evil.example')
      expect(other.headers.get('access-control-allow-origin')).toBeNull()

      const answer = await fetch(`${running.url}/trpc/mail.list`, {
        headers: { Origin: SHOP, Authorization: `Bearer ${contact.key}` },
      })
      // Refused (mail.list is outside the key), and still readable by the page, with the reason.
      expect(answer.status).toBe(403)
      expect(answer.headers.get('access-control-allow-origin')).toBe(SHOP)
    })

    it('gets 429 past its own 30 a minute, while other keys go on', async () => {
      let refusal: Awaited<ReturnType<typeof refusalOf>> = 'OK'
      let sends = 0
      while (refusal === 'OK' && sends < 15) {
        refusal = await refusalOf(form.mail.send.mutate({ ...FORM, subject: `Burst ${sends}` }))
        sends++
      }
      expect(refusal).toMatchObject({
        code: 'TOO_MANY_REQUESTS',
        httpStatus: 429,
        message: expect.stringMatching(/^Too many requests for this API key; retry in \d+ s$/),
      })
      // A burst of 10 (a third of 30), of which the earlier tests spent some.
      expect(sends).toBeLessThanOrEqual(11)
      expect(await refusalOf(running.client.accounts.list.query())).toBe('OK')
    })
  })

  describe('idempotency keys', () => {
    it("are each key's own: another key's invoice-1 is another message, and spoils nothing", async () => {
      const first = await admin.admin.keys.create.mutate({ name: 'Billing' })
      const second = await admin.admin.keys.create.mutate({ name: 'Shop' })
      const billing = clientWith(first.key)
      const shop = clientWith(second.key)
      const invoice = {
        to: 'ann@example.com',
        subject: 'Invoice 1',
        text: 'Due',
        idempotencyKey: 'invoice-1',
      }
      const original = await billing.mail.send.mutate(invoice)
      const other = await shop.mail.send.mutate({ ...invoice, subject: 'Order 1', text: 'Shipped' })
      expect(other.id).not.toBe(original.id)
      expect(other.subject).toBe('Order 1')
      // The first key's repeat is still its replay, not a CONFLICT.
      expect((await billing.mail.send.mutate(invoice)).id).toBe(original.id)
      expect((await shop.mail.send.mutate({ ...invoice, subject: 'Order 1', text: 'Shipped' })).id).toBe(
        other.id,
      )
      expect(await refusalOf(billing.mail.send.mutate({ ...invoice, text: 'Changed' }))).toEqual({
        code: 'CONFLICT',
        httpStatus: 409,
        message: 'The idempotency key "invoice-1" was used in the last 24 hours with a different message',
      })
    })
  })

  describe('a key limited to procedures', () => {
    it('reads, lists and cancels only its own messages; a full-access key sees all', async () => {
      const app = await admin.admin.keys.create.mutate({
        name: 'Newsletter',
        scope: { procedures: ['mail.send', 'mail.get', 'mail.list', 'mail.cancel', 'mail.retry'] },
      })
      const newsletter = clientWith(app.key)
      const later = new Date(Date.now() + 3_600_000).toISOString()
      const theirs = await running.client.mail.send.mutate({
        to: 'a@example.com',
        subject: 'Theirs',
        text: 'x',
        sendAt: later,
      })
      const mine = await newsletter.mail.send.mutate({
        to: 'b@example.com',
        subject: 'Mine',
        text: 'y',
        sendAt: later,
      })

      const notFound = { code: 'NOT_FOUND', httpStatus: 404, message: `No message has the id "${theirs.id}"` }
      expect(await refusalOf(newsletter.mail.get.query({ id: theirs.id }))).toEqual(notFound)
      expect(await refusalOf(newsletter.mail.cancel.mutate({ id: theirs.id }))).toEqual(notFound)
      expect(await refusalOf(newsletter.mail.retry.mutate({ id: theirs.id }))).toEqual(notFound)
      expect((await newsletter.mail.list.query({})).items.map((item) => item.id)).toEqual([mine.id])
      expect(
        (await newsletter.mail.list.query({ status: 'scheduled' })).items.map((item) => item.id),
      ).toEqual([mine.id])

      expect(await running.client.mail.get.query({ id: theirs.id })).toMatchObject({ status: 'scheduled' })
      expect(await newsletter.mail.get.query({ id: mine.id })).toMatchObject({ subject: 'Mine' })
      expect(await newsletter.mail.cancel.mutate({ id: mine.id })).toMatchObject({ status: 'canceled' })
      const all = await storedIds()
      expect(all).toEqual(expect.arrayContaining([theirs.id, mine.id]))
    })
  })
})
