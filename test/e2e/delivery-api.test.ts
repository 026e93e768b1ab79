import { TRPCClientError } from '@trpc/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient } from '../../src/client.ts'
import { listAll, messageIdOf, numbered, waitForFinal } from '../support/delivery-wait.ts'
import { type RunningService, startConnectedService, UNPACED_ENV } from '../support/service.ts'

/** The error a call rejected with (tRPC's client error carries `data.code` and `data.issues`). */
async function failure(call: Promise<unknown>): Promise<TRPCClientError<never>> {
  const caught = await call.then(
    () => undefined,
    (error: unknown) => error,
  )
  if (!(caught instanceof TRPCClientError)) throw new Error('Expected the call to fail with a tRPC error')
  return caught as TRPCClientError<never>
}

interface ErrorData {
  code: string
  issues?: Array<{ path: string; message: string }>
}

describe('mail API: batches, listing, idempotency, cancel', () => {
  let running: RunningService

  beforeAll(async () => {
    running = await startConnectedService(UNPACED_ENV)
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('refuses a batch with one bad message, naming it, and accepts none of it', async () => {
    const { client } = running
    const before = (await listAll(client)).size
    const mailboxBefore = running.service.sandbox!.control.mailbox().length

    const schema = await failure(
      client.mail.sendBatch.mutate({
        messages: [numbered(1), { to: 'ann@example.com', text: 'no subject' } as never, numbered(3)],
      }),
    )
    const schemaData = schema.data as unknown as ErrorData
    expect(schemaData.code).toBe('BAD_REQUEST')
    expect(schemaData.issues?.map((issue) => issue.path)).toContain('messages.1.subject')

    const semantic = await failure(
      client.mail.sendBatch.mutate({
        messages: [numbered(1), { ...numbered(2), to: 'not an address' }, numbered(3)],
      }),
    )
    const semanticData = semantic.data as unknown as ErrorData
    expect(semanticData.code).toBe('BAD_REQUEST')
    expect(semanticData.issues?.length).toBeGreaterThan(0)
    for (const issue of semanticData.issues ?? []) expect(issue.path).toMatch(/^messages\.1(\.|$)/)

    expect((await listAll(client)).size).toBe(before)
    expect(running.service.sandbox!.control.mailbox()).toHaveLength(mailboxBefore)
  })

  it('lists newest first, page by page, and filters by status', async () => {
    const { client } = running
    const sent = await client.mail.sendBatch.mutate({
      messages: Array.from({ length: 25 }, (_, index) => numbered(index)),
    })
    await waitForFinal(
      client,
      sent.map((record) => record.id),
    )
    const later = new Date(Date.now() + 3_600_000).toISOString()
    const scheduled = await client.mail.sendBatch.mutate({
      messages: Array.from({ length: 3 }, (_, index) => ({ ...numbered(100 + index), sendAt: later })),
    })
    expect(scheduled.map((record) => record.status)).toEqual(['scheduled', 'scheduled', 'scheduled'])
    expect(scheduled[0]!.sendAt).toBe(later)

    const pages: string[][] = []
    let cursor: string | undefined
    do {
      const page = await client.mail.list.query({ limit: 10, ...(cursor ? { cursor } : {}) })
      pages.push(page.items.map((item) => item.id))
      cursor = page.nextCursor
    } while (cursor !== undefined && pages.length < 10)
    const listed = pages.flat()
    const newest = [...sent, ...scheduled].map((record) => record.id).reverse()
    expect(listed.slice(0, 28)).toEqual(newest)
    expect(pages.slice(0, -1).every((page) => page.length === 10)).toBe(true)
    expect(new Set(listed).size).toBe(listed.length)

    const onlyScheduled = await client.mail.list.query({ status: 'scheduled' })
    expect(onlyScheduled.items.map((item) => item.id)).toEqual(scheduled.map((record) => record.id).reverse())
    expect(onlyScheduled.nextCursor).toBeUndefined()

    const canceled = await client.mail.cancel.mutate({ id: scheduled[1]!.id })
    expect(canceled.status).toBe('canceled')
    expect((await client.mail.list.query({ status: 'canceled' })).items.map((item) => item.id)).toEqual([
      scheduled[1]!.id,
    ])
    expect((await client.mail.list.query({ status: 'scheduled' })).items).toHaveLength(2)
    const sentPage = await client.mail.list.query({ status: 'sent', limit: 5 })
    expect(sentPage.items.map((item) => item.id)).toEqual(newest.slice(3, 8))
    expect(sentPage.nextCursor).toBeDefined()

    // Only queued, scheduled or held messages can be canceled.
    const sentCancel = await failure(client.mail.cancel.mutate({ id: sent[0]!.id }))
    expect((sentCancel.data as unknown as ErrorData).code).toBe('BAD_REQUEST')
    const unknown = await failure(client.mail.get.query({ id: 'no-such-message' }))
    expect((unknown.data as unknown as ErrorData).code).toBe('NOT_FOUND')
    for (const record of scheduled) {
      if (record.id !== scheduled[1]!.id) await client.mail.cancel.mutate({ id: record.id })
    }
  })

  it('makes one message and one Gmail send of 20 concurrent calls with one idempotency key', async () => {
    const control = running.service.sandbox!.control
    const input = { ...numbered(7), idempotencyKey: 'order-42-confirmation' }
    // Separate clients, so that the calls arrive as 20 HTTP requests rather than one tRPC batch.
    const clients = Array.from({ length: 20 }, () =>
      createMailClient({ url: `${running.url}/trpc`, apiKey: running.apiKey }),
    )
    const records = await Promise.all(clients.map((client) => client.mail.send.mutate(input)))
    const ids = new Set(records.map((record) => record.id))
    expect(ids.size).toBe(1)
    const [id] = [...ids] as [string]
    const [final] = await waitForFinal(running.client, [id])
    expect(final!.status).toBe('sent')
    expect(final!.attempts).toBe(1)
    expect(control.mailbox().filter((message) => message.messageIdHeader === messageIdOf(id))).toHaveLength(1)

    // Later, and with the fields in another order: still the same message.
    const again = await running.client.mail.send.mutate({
      idempotencyKey: input.idempotencyKey,
      text: input.text,
      subject: input.subject,
      to: input.to,
    })
    expect(again.id).toBe(id)

    const conflict = await failure(running.client.mail.send.mutate({ ...input, subject: 'Another subject' }))
    expect((conflict.data as unknown as ErrorData).code).toBe('CONFLICT')

    // Within one batch too: the same key and input twice is one message.
    const batch = await running.client.mail.sendBatch.mutate({
      messages: [
        { ...numbered(8), idempotencyKey: 'batch-key' },
        { ...numbered(8), idempotencyKey: 'batch-key' },
      ],
    })
    expect(batch[0]!.id).toBe(batch[1]!.id)
  })
})
