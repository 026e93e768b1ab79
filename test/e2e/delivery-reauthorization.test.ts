import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MailRecord } from '../../src/client.ts'
import { connectAccount } from '../support/connect.ts'
import { listAll, messageIdOf, numbered, waitFor, waitForFinal } from '../support/delivery-wait.ts'
import { type RunningService, startConnectedService, UNPACED_ENV } from '../support/service.ts'

const EMAIL = 'support@example.com'

describe('mail held while an account needs reauthorization', () => {
  let running: RunningService

  beforeAll(async () => {
    running = await startConnectedService(
      {
        ...UNPACED_ENV,
        SEND_WAIT_MS: '0',
        // One send at a time: Gmail then receives the messages exactly in the order they go out.
        SEND_CONCURRENCY: '1',
        RETRY_BASE_MS: '20',
        RETRY_MAX_MS: '200',
      },
      EMAIL,
    )
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('holds the rest on a revoked token, says why, and sends everything in order once reauthorized', async () => {
    const control = running.service.sandbox!.control
    const { client } = running
    const accepted: MailRecord[] = []
    for (let index = 0; index < 20; index++) accepted.push(await client.mail.send.mutate(numbered(index)))
    await waitFor(() => (control.mailbox().length >= 5 ? true : undefined), { what: 'some sends' })
    control.revokeAccount(EMAIL)
    for (let index = 20; index < 50; index++) accepted.push(await client.mail.send.mutate(numbered(index)))

    const accounts = await waitFor(async () => {
      const list = await client.accounts.list.query()
      return list[0]?.status === 'reauthorization_required' ? list : undefined
    })
    expect(accounts).toEqual([expect.objectContaining({ email: EMAIL, status: 'reauthorization_required' })])
    expect(accounts[0]!.lastError?.code).toBe('REAUTHORIZATION_REQUIRED')

    const settled = await waitFor(async () => {
      const all = await listAll(client)
      const statuses = accepted.map((record) => all.get(record.id)!.status)
      return statuses.every((status) => status === 'sent' || status === 'held') ? statuses : undefined
    })
    const held = settled.filter((status) => status === 'held').length
    expect(held).toBeGreaterThan(0)
    expect(held).toBeLessThan(50)
    // Nothing is sent while held; statuses stay put.
    expect(control.mailbox()).toHaveLength(50 - held)
    const heldRecord = await client.mail.get.query({ id: accepted.at(-1)!.id })
    expect(heldRecord).toMatchObject({ status: 'held', error: { code: 'REAUTHORIZATION_REQUIRED' } })

    const ready = await fetch(`${running.url}/readyz`)
    expect(ready.status).toBe(503)
    const why = (await ready.json()) as { reason: string }
    expect(why.reason).toContain('Reauthorization required')
    // Anyone may ask /readyz: the reason names no account, not even its domain.
    expect(why.reason).not.toContain(EMAIL.split('@')[0])
    expect(why.reason).not.toContain(EMAIL.split('@')[1])

    // New mail is accepted, and held at once.
    for (let index = 50; index < 53; index++) {
      const record = await client.mail.send.mutate(numbered(index))
      expect(record).toMatchObject({ status: 'held', error: { code: 'REAUTHORIZATION_REQUIRED' } })
      accepted.push(record)
    }
    // A held message can be canceled; it never goes out.
    const canceled = await client.mail.cancel.mutate({ id: accepted[51]!.id })
    expect(canceled.status).toBe('canceled')

    const again = await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control,
      email: EMAIL,
    })
    expect(again.callbackStatus).toBe(302)
    expect((await client.accounts.list.query())[0]!.status).toBe('connected')
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200)

    const finals = await waitForFinal(
      client,
      accepted.map((record) => record.id),
    )
    expect(finals.map((record) => record.status)).toEqual(
      accepted.map((_, index) => (index === 51 ? 'canceled' : 'sent')),
    )
    const expectedOrder = accepted.filter((_, index) => index !== 51).map((record) => messageIdOf(record.id))
    const receivedOrder = control
      .mailbox()
      .map((message) => message.messageIdHeader)
      .reverse()
    expect(receivedOrder).toEqual(expectedOrder)
  })
})
