import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MailClient } from '../../src/client.ts'
import { type ManualTime, manualTime } from '../fakes/clock.ts'
import { connectAccount } from '../support/connect.ts'
import { messageIdOf, numbered, waitFor } from '../support/delivery-wait.ts'
import { type RunningService, startService } from '../support/service.ts'

const ENV = {
  GMAIL_SENDS_PER_MINUTE: '0',
  SEND_WAIT_MS: '0',
  API_RATE_LIMIT_PER_MINUTE: '0',
  LOG_LEVEL: 'info',
}

/** The service on a clock the test moves: timers fire only when it says so. */
describe('scheduled and canceled messages, across a restart', () => {
  let time: ManualTime
  let running: RunningService

  const start = (dataDir?: string) =>
    startService(ENV, { clock: time, scheduler: time, ...(dataDir === undefined ? {} : { dataDir }) })
  const statusOf = async (client: MailClient, id: string) => (await client.mail.get.query({ id })).status
  const received = (id: string) =>
    running.service
      .sandbox!.control.mailbox()
      .filter((message) => message.messageIdHeader === messageIdOf(id)).length
  /** Lets anything the service would wrongly do now happen, before looking. */
  const pause = () => new Promise((resolve) => setTimeout(resolve, 100))

  beforeAll(async () => {
    time = manualTime()
    running = await start()
    await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control: running.service.sandbox!.control,
      email: 'support@example.com',
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('keeps a scheduled message through a restart and sends it at its time, not before', async () => {
    const at = (ms: number) => new Date(time.now() + ms).toISOString()
    const dueAt = time.now() + 60_000
    const scheduled = await running.client.mail.send.mutate({ ...numbered(1), sendAt: at(60_000) })
    const doomed = await running.client.mail.send.mutate({ ...numbered(2), sendAt: at(90_000) })
    const past = await running.client.mail.send.mutate({ ...numbered(3), sendAt: at(-5_000) })
    expect(scheduled).toMatchObject({ status: 'scheduled', sendAt: new Date(dueAt).toISOString() })
    expect(past.status).not.toBe('scheduled')
    await waitFor(async () => ((await statusOf(running.client, past.id)) === 'sent' ? true : undefined))

    expect((await running.client.mail.cancel.mutate({ id: doomed.id })).status).toBe('canceled')

    await time.advance(30_000)
    await pause()
    expect(await statusOf(running.client, scheduled.id)).toBe('scheduled')

    const dataDir = running.dataDir
    await running.stop({ keepData: true })
    await time.advance(10_000)
    running = await start(dataDir)
    expect(await statusOf(running.client, scheduled.id)).toBe('scheduled')
    expect(await statusOf(running.client, doomed.id)).toBe('canceled')

    await time.advance(dueAt - 1 - time.now())
    await pause()
    expect(await statusOf(running.client, scheduled.id)).toBe('scheduled')
    expect(received(scheduled.id)).toBe(0)

    await time.advance(1)
    const sent = await waitFor(async () => {
      const record = await running.client.mail.get.query({ id: scheduled.id })
      return record.status === 'sent' ? record : undefined
    })
    expect(Date.parse(sent.sentAt!)).toBeGreaterThanOrEqual(dueAt)
    expect(received(scheduled.id)).toBe(1)

    await time.advance(60_000)
    await pause()
    expect(await statusOf(running.client, doomed.id)).toBe('canceled')
    expect(received(doomed.id)).toBe(0)
  })

  it('keeps an idempotency key for 24 hours, then lets it make a new message', async () => {
    const input = { ...numbered(4), idempotencyKey: 'daily-report' }
    const first = await running.client.mail.send.mutate(input)
    await time.advance(23 * 3_600_000)
    expect((await running.client.mail.send.mutate(input)).id).toBe(first.id)
    await time.advance(3_600_000 + 1)
    const fresh = await running.client.mail.send.mutate(input)
    expect(fresh.id).not.toBe(first.id)
    await waitFor(async () => ((await statusOf(running.client, fresh.id)) === 'sent' ? true : undefined))
  })
})

describe('the daily sending budget', () => {
  it('still counts the sends made before a restart', async () => {
    const time = manualTime()
    const env = { ...ENV, GMAIL_SENDS_PER_DAY: '3' }
    let running = await startService(env, { clock: time, scheduler: time })
    try {
      await connectAccount({
        url: running.url,
        adminToken: running.adminToken,
        control: running.service.sandbox!.control,
        email: 'support@example.com',
      })
      const firstAt = time.now()
      const early = await running.client.mail.sendBatch.mutate({
        messages: [numbered(1), numbered(2), numbered(3)],
      })
      for (const record of early) {
        await waitFor(async () =>
          (await running.client.mail.get.query({ id: record.id })).status === 'sent' ? true : undefined,
        )
      }
      await running.stop({ keepData: true })
      await time.advance(3_600_000)
      running = await startService(env, { clock: time, scheduler: time, dataDir: running.dataDir })

      const fourth = await running.client.mail.send.mutate(numbered(4))
      await time.advance(firstAt + 86_400_000 - time.now())
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect((await running.client.mail.get.query({ id: fourth.id })).status).toBe('queued')

      await time.advance(1)
      await waitFor(async () =>
        (await running.client.mail.get.query({ id: fourth.id })).status === 'sent' ? true : undefined,
      )
    } finally {
      await running.stop()
    }
  })
})
