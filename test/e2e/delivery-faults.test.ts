import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Fault } from '../../src/emulator/types.ts'
import { messageIdOf, numbered, waitForFinal } from '../support/delivery-wait.ts'
import { type RunningService, startConnectedService, UNPACED_ENV } from '../support/service.ts'

/** A small seeded generator (mulberry32), so that a failing run can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/**
 * The emulator draws one number to decide whether a request fails and, when
 * it does, a second to pick the fault: following that, this counts what was
 * played. The total is checked against the emulator's own count.
 */
function countingRandom(probability: number, faults: Fault[], seed: number) {
  const random = seeded(seed)
  const played = new Map<string, number>()
  let picking = false
  return {
    played,
    random: () => {
      const value = random()
      if (picking) {
        picking = false
        const fault = faults[Math.min(faults.length - 1, Math.floor(value * faults.length))]!
        const name = fault.kind === 'status' ? `status ${fault.status}` : fault.kind
        played.set(name, (played.get(name) ?? 0) + 1)
      } else if (value < probability) picking = true
      return value
    },
  }
}

describe('delivery through a flaky Gmail', () => {
  let running: RunningService

  beforeAll(async () => {
    running = await startConnectedService({
      ...UNPACED_ENV,
      SEND_WAIT_MS: '0',
      RETRY_BASE_MS: '20',
      RETRY_MAX_MS: '300',
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('sends all 200 messages when 30% of Gmail calls fail, with no more duplicates than resets after a send', async () => {
    const control = running.service.sandbox!.control
    const faults: Fault[] = [
      { kind: 'status', status: 429, reason: 'rateLimitExceeded', retryAfterSeconds: 1 },
      { kind: 'status', status: 500, reason: 'backendError' },
      { kind: 'status', status: 503, reason: 'backendError' },
      { kind: 'reset' },
      { kind: 'reset-after-send' },
    ]
    const counting = countingRandom(0.3, faults, 20_261_126)
    control.setFaultRate('send', { probability: 0.3, faults, random: counting.random })

    const chunks = await Promise.all(
      [0, 100].map((start) =>
        running.client.mail.sendBatch.mutate({
          messages: Array.from({ length: 100 }, (_, index) => numbered(start + index)),
        }),
      ),
    )
    const ids = chunks.flat().map((record) => record.id)
    expect(new Set(ids).size).toBe(200)

    const records = await waitForFinal(running.client, ids, { timeoutMs: 40_000 })
    control.setFaultRate('send', undefined)

    expect(records.filter((record) => record.status !== 'sent')).toEqual([])
    const stats = control.stats()
    const totalPlayed = [...counting.played.values()].reduce((sum, count) => sum + count, 0)
    expect(totalPlayed).toBe(stats.faultsInjected)
    expect(stats.faultsInjected).toBeGreaterThan(40)
    // Retries really happened, and each message's record counts its attempts.
    expect(records.reduce((sum, record) => sum + record.attempts, 0)).toBe(200 + stats.faultsInjected)

    const mailbox = control.mailbox()
    const copies = new Map<string, number>()
    for (const message of mailbox) {
      copies.set(message.messageIdHeader!, (copies.get(message.messageIdHeader!) ?? 0) + 1)
    }
    const byGmailId = new Map(mailbox.map((message) => [message.id, message]))
    for (const record of records) {
      // The copy the service learned of is the one Gmail holds under this message's Message-ID.
      expect(byGmailId.get(record.gmailMessageId!)?.messageIdHeader).toBe(messageIdOf(record.id))
    }
    expect([...copies.keys()].sort()).toEqual(records.map((record) => messageIdOf(record.id)).sort())
    const duplicates = mailbox.length - records.length
    expect(duplicates).toBeLessThanOrEqual(counting.played.get('reset-after-send') ?? 0)
  })
})

describe('delivery that cannot succeed', () => {
  let running: RunningService

  beforeAll(async () => {
    running = await startConnectedService({
      ...UNPACED_ENV,
      GIVE_UP_AFTER_MS: '1000',
      RETRY_BASE_MS: '50',
      RETRY_MAX_MS: '200',
    })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('fails a message Gmail refuses with 400 at once, without a retry', async () => {
    const control = running.service.sandbox!.control
    control.injectFaults('send', [{ kind: 'status', status: 400, reason: 'invalidArgument' }])
    const record = await running.client.mail.send.mutate(numbered(1))
    expect(record).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'GMAIL_REJECTED' } })
    expect(control.stats().calls.send).toBe(1)
  })

  it('gives up with failed after GIVE_UP_AFTER_MS of 503s, and sends it when retried', async () => {
    const control = running.service.sandbox!.control
    control.setFaultRate('send', { probability: 1, faults: [{ kind: 'status', status: 503 }] })
    const accepted = await running.client.mail.send.mutate(numbered(2))
    // Its first attempt failed; a retry may already be on its way (full jitter can be near zero).
    expect(['queued', 'sending']).toContain(accepted.status)
    expect(accepted.attempts).toBeGreaterThanOrEqual(1)
    const [failed] = await waitForFinal(running.client, [accepted.id])
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'GMAIL_UNAVAILABLE' } })
    expect(failed!.attempts).toBeGreaterThan(2)
    expect(control.mailbox()).toHaveLength(0)

    control.setFaultRate('send', undefined)
    await running.client.mail.retry.mutate({ id: accepted.id })
    const [sent] = await waitForFinal(running.client, [accepted.id])
    expect(sent!.status).toBe('sent')
    expect(control.mailbox()).toHaveLength(1)
  })
})
