import { afterEach, describe, expect, it } from 'vitest'
import type { Scheduler } from '../../src/app/scheduler.ts'
import { type ManualTime, manualTime } from '../fakes/clock.ts'
import { connectAccount } from '../support/connect.ts'
import { listAll, numbered, waitFor, waitForFinal } from '../support/delivery-wait.ts'
import { type RunningService, startService } from '../support/service.ts'

const QUOTA = 120
const MESSAGES = 150

/**
 * The service and its sandbox emulator share a clock that the test moves,
 * and time moves only while nothing is on its way to Gmail: a send then
 * reaches the emulator at the very time the service started it, so the
 * service's pacing and the emulator's 60-second window count the same sends.
 */
/** A manual clock whose scheduler tells when its next timer is due, so the test can jump there. */
function steppedTime(): { time: ManualTime; scheduler: Scheduler; nextTimerAt(): number } {
  const time = manualTime()
  const due = new Map<number, number>()
  let sequence = 0
  return {
    time,
    scheduler: {
      after(ms, fn) {
        const id = ++sequence
        due.set(id, time.now() + Math.max(0, ms))
        const cancel = time.after(ms, () => {
          due.delete(id)
          fn()
        })
        return () => {
          due.delete(id)
          cancel()
        }
      },
    },
    nextTimerAt: () => Math.min(...due.values()),
  }
}

describe('pacing under the emulated per-user quota', () => {
  let time: ManualTime
  let running: RunningService | undefined

  afterEach(async () => {
    await running?.stop()
    running = undefined
  })

  /** Delivery events seen in the service's log so far, read incrementally. */
  const events = { read: 0, started: 0, sent: 0, settled: 0 }
  const tally = () => {
    const logs = running!.logs
    for (; events.read < logs.length; events.read++) {
      const msg = /"msg":"([^"]*)"/.exec(logs[events.read]!)?.[1]
      if (msg === 'Delivery attempt') events.started++
      else if (msg === 'Message sent') {
        events.sent++
        events.settled++
      } else if (
        msg === 'Delivery will be retried' ||
        msg === 'Delivery failed' ||
        msg === 'Delivery held until reauthorization'
      ) {
        events.settled++
      }
    }
    return events
  }

  /**
   * Waits until every attempt the service started has reached the emulator,
   * come back, and been recorded: the engine logs an outcome only once it is
   * on disk, and picks the next message right after.
   */
  const quiet = () =>
    waitFor(
      () => {
        const { started, settled } = tally()
        const sends = running!.service.sandbox!.control.stats().calls.send
        return started === settled && started === sends ? true : undefined
      },
      { intervalMs: 2, what: 'sends in flight' },
    )

  /** Sends `MESSAGES` at once with `perMinute` pacing, then moves time until all are sent. */
  const run = async (perMinute: number) => {
    const stepped = steppedTime()
    time = stepped.time
    Object.assign(events, { read: 0, started: 0, sent: 0, settled: 0 })
    running = await startService(
      {
        GMAIL_SENDS_PER_MINUTE: String(perMinute),
        SEND_WAIT_MS: '0',
        API_RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'debug',
      },
      { clock: time, scheduler: stepped.scheduler },
    )
    const control = running.service.sandbox!.control
    await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control,
      email: 'paced@example.com',
    })
    control.setQuota({ sendsPerMinute: QUOTA })
    const started = time.now()
    for (let offset = 0; offset < MESSAGES; offset += 75) {
      await running.client.mail.sendBatch.mutate({
        messages: Array.from({ length: 75 }, (_, index) => numbered(offset + index)),
      })
    }
    for (let step = 0; step < 1_000; step++) {
      await quiet()
      if (tally().sent >= MESSAGES) break
      const next = stepped.nextTimerAt()
      if (!Number.isFinite(next)) throw new Error('Mail is waiting, but nothing is due')
      await time.advance(Math.max(0, next - time.now()))
    }
    const records = await waitForFinal(running.client, [...(await listAll(running.client)).keys()])
    return { records, stats: control.stats(), elapsed: time.now() - started }
  }

  it(`never meets Gmail's 429 when paced at the quota (${QUOTA} a minute)`, async () => {
    const { records, stats, elapsed } = await run(QUOTA)
    expect(records).toHaveLength(MESSAGES)
    expect(records.filter((record) => record.status !== 'sent')).toEqual([])
    expect(stats.rateLimited).toBe(0)
    expect(stats.calls.send).toBe(MESSAGES)
    // More than a minute's worth had to wait for the window to move on.
    expect(elapsed).toBeGreaterThan(60_000)
  })

  it('does meet 429s without pacing, and still sends everything after the Retry-After', async () => {
    const { records, stats } = await run(0)
    expect(records.filter((record) => record.status !== 'sent')).toEqual([])
    expect(stats.rateLimited).toBeGreaterThan(0)
    expect(stats.calls.send).toBe(MESSAGES + stats.rateLimited)
  })
})
