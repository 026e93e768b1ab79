/**
 * Sandbox mode after a crash: the emulator's grants are on disk as soon as
 * they change (before the callback that made them answers), so a kill -9
 * right after connecting does not make the admin connect again.
 */
import { describe, expect, it } from 'vitest'
import { childFleet } from '../support/child-fleet.ts'
import { waitFor } from '../support/delivery-wait.ts'
import { freePort } from '../support/process.ts'
import { connectSandboxAccount, sandboxModeEnv } from '../support/sandbox-child.ts'

const EMAIL = 'crash@example.com'

describe('a sandbox service killed with SIGKILL', () => {
  const { start } = childFleet('gmail-send-sandbox-kill-', async (dataDir) =>
    sandboxModeEnv(dataDir, await freePort()),
  )

  it('still sends from the account it connected just before the kill', async () => {
    const first = await start()
    expect(await connectSandboxAccount(first, EMAIL)).toBe(302)
    // At once, with no graceful stop: nothing gets a chance to write on the way out.
    first.process.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')

    const second = await start()
    const accepted = await second.client.mail.send.mutate({
      to: 'ann@example.com',
      subject: 'After',
      text: 'x',
    })
    const settled = await waitFor(
      async () => {
        const record = await second.client.mail.get.query({ id: accepted.id })
        return record.status === 'queued' || record.status === 'sending' ? undefined : record
      },
      { what: 'the message to be sent or held' },
    )
    expect(settled).toMatchObject({ status: 'sent', from: EMAIL })
    expect((await second.client.accounts.list.query())[0]).toMatchObject({
      email: EMAIL,
      status: 'connected',
    })
  })
})
