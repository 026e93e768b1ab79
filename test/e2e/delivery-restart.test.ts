import { describe, expect, it } from 'vitest'
import { restartableService } from '../support/child-fleet.ts'
import { connectAccount } from '../support/connect.ts'
import { messageIdOf, numbered, waitForFinal } from '../support/delivery-wait.ts'

const EMAIL = 'support@example.com'

describe('a service process killed or stopped while sending', () => {
  const fleet = restartableService('gmail-send-child-')
  const { start, copies, children } = fleet

  it('sends every accepted message after a SIGKILL in the middle of 300 sends and a restart', async () => {
    const first = await start()
    const connected = await connectAccount({
      url: first.url,
      adminToken: first.adminToken,
      control: fleet.control,
      email: EMAIL,
    })
    expect(connected.callbackStatus).toBe(302)
    // Some sends are slow, so that the kill finds messages in every state, sending included.
    fleet.control.setFaultRate('send', {
      probability: 0.2,
      faults: [{ kind: 'delay', ms: 150 }],
    })

    const accepted: string[] = []
    const killAfter = 50 + Math.floor(Math.random() * 200)
    let killed = false
    for (let chunk = 0; chunk < 12 && !killed; chunk++) {
      const call = first.client.mail.sendBatch.mutate({
        messages: Array.from({ length: 25 }, (_, index) => numbered(chunk * 25 + index)),
      })
      if (accepted.length >= killAfter) {
        // The next batch is on its way when the process dies: it may or may not have been stored.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 15)))
        first.process.kill('SIGKILL')
        killed = true
      }
      const records = await call.catch(() => [])
      accepted.push(...records.map((record) => record.id))
    }
    if (!killed) first.process.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')
    expect(accepted.length).toBeGreaterThanOrEqual(50)
    fleet.control.setFaultRate('send', undefined)

    const second = await start()
    const records = await waitForFinal(second.client, accepted, { timeoutMs: 30_000 })
    expect(records.filter((record) => record.status !== 'sent')).toEqual([])
    const received = copies()
    const missing = accepted.filter((id) => (received.get(messageIdOf(id)) ?? 0) < 1)
    expect(missing).toEqual([])
  })

  it('on SIGTERM lets sends in flight finish, exits 0, and sends the rest after a restart', async () => {
    // The process restarted by the test above, still connected.
    const third = children.at(-1)!
    expect(third.process.exitCode).toBeNull()
    const before = copies()
    // Every send takes a while: several are in flight when the signal comes.
    fleet.control.setFaultRate('send', { probability: 1, faults: [{ kind: 'delay', ms: 200 }] })
    const batch = await third.client.mail.sendBatch.mutate({
      messages: Array.from({ length: 60 }, (_, index) => numbered(1000 + index)),
    })
    const accepted = batch.map((record) => record.id)
    await new Promise((resolve) => setTimeout(resolve, 100))
    third.process.kill('SIGTERM')
    expect(await third.exited).toEqual({ code: 0, signal: null })
    const sentBeforeRestart = fleet.control
      .mailbox()
      .filter((message) => accepted.some((id) => message.messageIdHeader === messageIdOf(id))).length
    expect(sentBeforeRestart).toBeGreaterThan(0)
    expect(sentBeforeRestart).toBeLessThan(accepted.length)
    fleet.control.setFaultRate('send', undefined)

    const fourth = await start()
    const records = await waitForFinal(fourth.client, accepted, { timeoutMs: 30_000 })
    expect(records.filter((record) => record.status !== 'sent')).toEqual([])
    const received = copies()
    // A graceful stop records every send that finished: none goes out twice.
    for (const id of accepted) {
      expect((received.get(messageIdOf(id)) ?? 0) - (before.get(messageIdOf(id)) ?? 0)).toBe(1)
    }
    fourth.process.kill('SIGTERM')
    expect((await fourth.exited).code).toBe(0)
  })
})
