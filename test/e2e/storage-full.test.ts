/**
 * The service on a real small disk (an 8 MiB tmpfs as DATA_DIR) filled up
 * during acceptance and during delivery, then freed: new mail is refused
 * with 503 STORAGE_FULL while nothing is stored, an outcome that cannot be
 * written stops the lane instead of being dropped, and every accepted
 * message reaches Gmail exactly once, a restart included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copiesByMessageId } from '../support/child-fleet.ts'
import { realModeEnv } from '../support/child-service.ts'
import { connectAccount } from '../support/connect.ts'
import { listAll, messageIdOf, numbered, waitFor, waitForFinal } from '../support/delivery-wait.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { type RunningService, startConnectedService, startService } from '../support/service.ts'
import { mountSmallDisk, type SmallDisk, smallDiskUnavailable } from '../support/small-disk.ts'

const EMAIL = 'support@example.com'
const MiB = 1_048_576
const MARGIN = 2 * MiB

describe('a margin larger than the disk (no root needed)', () => {
  it('refuses new mail with 503 STORAGE_FULL and Retry-After, and /readyz says why', async () => {
    const running = await startConnectedService({ MIN_FREE_BYTES: String(2 ** 52) })
    try {
      const refused = await fetch(`${running.url}/trpc/mail.send`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${running.apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(numbered(1)),
      })
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('30')
      expect(await refused.json()).toMatchObject({
        error: {
          message: "The service's storage is full; nothing was stored; retry later",
          data: { code: 'STORAGE_FULL', httpStatus: 503, retryAfterMs: 30_000 },
        },
      })
      const ready = await fetch(`${running.url}/readyz`)
      expect(ready.status).toBe(503)
      expect(((await ready.json()) as { reason: string }).reason).toMatch(
        /^Storage is nearly full: free space in DATA_DIR \(.* MiB free\) is below MIN_FREE_BYTES \(.* MiB\); new mail is refused and no new send starts$/,
      )
      expect((await listAll(running.client)).size).toBe(0)
    } finally {
      await running.stop()
    }
  })
})

const unavailable = await smallDiskUnavailable()
if (unavailable !== undefined) console.log(`Skipping the full-disk tests: ${unavailable}`)

describe.skipIf(unavailable !== undefined)('a full disk under DATA_DIR', () => {
  let small: SmallDisk
  let emulator: RunningEmulator
  const services: RunningService[] = []

  /** The service in real mode against the test's emulator, with `dataDir` on the small disk. */
  const start = async (dataDir: string, extra: Record<string, string> = {}) => {
    const { PORT: _port, DATA_DIR: _dir, ...env } = realModeEnv(emulator.endpoints, dataDir)
    const running = await startService(
      {
        ...env,
        MIN_FREE_BYTES: String(MARGIN),
        GMAIL_SENDS_PER_MINUTE: '0',
        API_RATE_LIMIT_PER_MINUTE: '0',
        SEND_WAIT_MS: '0',
        RETRY_BASE_MS: '20',
        RETRY_MAX_MS: '200',
        LOG_LEVEL: 'info',
        ...extra,
      },
      { dataDir },
    )
    services.push(running)
    return running
  }
  const connect = async (running: RunningService) => {
    const result = await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control: emulator.emulator.control,
      email: EMAIL,
    })
    expect(result.callbackStatus).toBe(302)
  }
  const readiness = async (running: RunningService) => {
    const answer = await fetch(`${running.url}/readyz`)
    return { status: answer.status, body: (await answer.json()) as { status: string; reason?: string } }
  }
  /** A raw tRPC call: the answer as it is, with no client retrying a 503 after its Retry-After. */
  const post = (running: RunningService, procedure: string, input: unknown) =>
    fetch(`${running.url}/trpc/${procedure}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${running.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(input),
    })
  const copies = () => copiesByMessageId(emulator)

  beforeAll(async () => {
    const mounted = await mountSmallDisk(8 * MiB)
    if (typeof mounted === 'string') throw new Error(mounted)
    small = mounted
    emulator = await startEmulator()
  })
  afterAll(async () => {
    for (const running of services) await running.stop().catch(() => undefined)
    await emulator?.close()
    await small?.unmount()
  })

  it('refuses new mail below MIN_FREE_BYTES with 503 STORAGE_FULL and Retry-After, storing nothing, and accepts it again once freed', async () => {
    const running = await start(await small.folder('acceptance'))
    await connect(running)
    const before = await running.client.mail.send.mutate(numbered(1))

    await small.fillUntilFree(MARGIN / 2)
    const notReady = await waitFor(async () => {
      const ready = await readiness(running)
      return ready.status === 503 ? ready : undefined
    })
    expect(notReady.body.reason).toMatch(
      /^Storage is nearly full: .* below MIN_FREE_BYTES \(2\.0 MiB\); new mail is refused$/,
    )

    const refused = await post(running, 'mail.send', numbered(2))
    expect(refused.status).toBe(503)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    const answer = (await refused.json()) as {
      error: { message: string; data: { code: string; httpStatus: number; retryAfterMs?: number } }
    }
    expect(answer.error.message).toBe("The service's storage is full; nothing was stored; retry later")
    expect(answer.error.data).toMatchObject({ code: 'STORAGE_FULL', httpStatus: 503 })
    expect(answer.error.data.retryAfterMs).toBeGreaterThan(0)
    // A batch is refused whole, and nothing of either was stored.
    const batch = await post(running, 'mail.sendBatch', { messages: [numbered(3), numbered(4)] })
    expect(batch.status).toBe(503)
    expect(await batch.json()).toMatchObject({ error: { data: { code: 'STORAGE_FULL' } } })
    expect([...(await listAll(running.client)).keys()]).toEqual([before.id])

    await small.removeBallast()
    await waitFor(async () => ((await readiness(running)).status === 200 ? true : undefined))
    const after = await running.client.mail.sendBatch.mutate({ messages: [numbered(5), numbered(6)] })
    const ids = [before.id, ...after.map((record) => record.id)]
    const records = await waitForFinal(running.client, ids)
    expect(records.map((record) => record.status)).toEqual(['sent', 'sent', 'sent'])
    const received = copies()
    expect(ids.map((id) => received.get(messageIdOf(id)))).toEqual([1, 1, 1])
    await running.stop()
  })

  it('answers 503 STORAGE_FULL, not an internal error, when a write finds the disk full (margin off), storing nothing', async () => {
    const running = await start(await small.folder('no-margin'), { MIN_FREE_BYTES: '0' })
    await connect(running)
    await small.fillCompletely()
    const refused = await post(running, 'mail.send', numbered(7))
    expect(refused.status).toBe(503)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await refused.json()).toMatchObject({
      error: {
        message: "The service's storage is full; nothing was stored; retry later",
        data: { code: 'STORAGE_FULL', httpStatus: 503 },
      },
    })
    await small.removeBallast()
    expect((await listAll(running.client)).size).toBe(0)
    await running.stop()
  })

  it('stops sending when outcomes cannot be written, records them once freed, and sends nothing twice, a restart included', async () => {
    emulator.emulator.control.clearMailbox()
    const dataDir = await small.folder('delivery')
    const running = await start(dataDir, { SEND_CONCURRENCY: '4' })
    await connect(running)
    const callsBefore = emulator.emulator.control.stats().calls.send
    // A slow Gmail: four sends are in flight when the disk fills up.
    emulator.emulator.control.setFaultRate('send', { probability: 1, faults: [{ kind: 'delay', ms: 800 }] })
    const accepted = (
      await running.client.mail.sendBatch.mutate({
        messages: Array.from({ length: 10 }, (_, index) => numbered(100 + index)),
      })
    ).map((record) => record.id)
    await waitFor(() => (emulator.emulator.control.stats().calls.send - callsBefore >= 4 ? true : undefined))

    await small.fillCompletely()
    expect(await small.freeBytes()).toBe(0)
    // The four sends reach Gmail; their outcomes find no room on the disk.
    await waitFor(() => (emulator.emulator.control.mailbox().length >= 4 ? true : undefined))
    emulator.emulator.control.setFaultRate('send', undefined)
    const stopped = await waitFor(async () => {
      const ready = await readiness(running)
      return ready.body.reason?.startsWith('A delivery outcome could not be recorded') ? ready : undefined
    })
    expect(stopped).toEqual({
      status: 503,
      body: {
        status: 'not_ready',
        reason:
          'A delivery outcome could not be recorded: storage is full or failing; sending is stopped until it is written',
      },
    })
    // The service still tells the truth about what went out. (An outcome or two may still fit in the
    // room left in the last page of the outbox journal, and a send start before the next free-space
    // reading: the lane stops at the first outcome that finds no room.)
    const inGmail = accepted.filter((id) => copies().has(messageIdOf(id)))
    expect(inGmail.length).toBeGreaterThanOrEqual(4)
    for (const id of inGmail) {
      expect(await running.client.mail.get.query({ id })).toMatchObject({
        status: 'sent',
        gmailMessageId: expect.any(String),
      })
    }
    // Nothing new goes out while the lane is stopped.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(emulator.emulator.control.mailbox()).toHaveLength(inGmail.length)

    await small.removeBallast()
    const records = await waitForFinal(running.client, accepted)
    expect(records.filter((record) => record.status !== 'sent')).toEqual([])
    const received = copies()
    expect(accepted.map((id) => received.get(messageIdOf(id)))).toEqual(accepted.map(() => 1))
    await waitFor(async () => ((await readiness(running)).status === 200 ? true : undefined))

    // Stopped and started again on the same disk: everything is recorded as sent, nothing goes out again.
    await running.stop({ keepData: true })
    const again = await start(dataDir)
    const afterRestart = await listAll(again.client)
    expect(accepted.map((id) => afterRestart.get(id)?.status)).toEqual(accepted.map(() => 'sent'))
    expect(again.logs.some((line) => line.includes('Resumed pending mail'))).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(emulator.emulator.control.mailbox()).toHaveLength(accepted.length)
    await again.stop()
  })
})
