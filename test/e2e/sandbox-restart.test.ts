/**
 * Sandbox mode after a crash: the emulator's grants are on disk as soon as
 * they change (before the callback that made them answers), so a kill -9
 * right after connecting does not make the admin connect again.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChildService, startChildService } from '../support/child-service.ts'
import { waitFor } from '../support/delivery-wait.ts'
import { freePort } from '../support/process.ts'
import { connectSandboxAccount, sandboxModeEnv } from '../support/sandbox-child.ts'

const EMAIL = 'crash@example.com'

describe('a sandbox service killed with SIGKILL', () => {
  let dataDir: string
  let env: Record<string, string>
  const children: ChildService[] = []

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-sandbox-kill-'))
    env = sandboxModeEnv(dataDir, await freePort())
  })
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL')
    await Promise.all(children.map((child) => child.exited))
    await rm(dataDir, { recursive: true, force: true })
  })

  it('still sends from the account it connected just before the kill', async () => {
    const first = await startChildService(env)
    children.push(first)
    expect(await connectSandboxAccount(first, EMAIL)).toBe(302)
    // At once, with no graceful stop: nothing gets a chance to write on the way out.
    first.process.kill('SIGKILL')
    expect((await first.exited).signal).toBe('SIGKILL')

    const second = await startChildService(env)
    children.push(second)
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
