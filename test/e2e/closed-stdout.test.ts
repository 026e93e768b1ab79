/**
 * Logging never takes the service down: when the reader of its JSON log
 * (stdout) goes away, the next lines fail with EPIPE; the service drops
 * them, says so once on stderr, and keeps serving and sending.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChildService, startChildService } from '../support/child-service.ts'
import { waitFor } from '../support/delivery-wait.ts'
import { freePort } from '../support/process.ts'
import { connectSandboxAccount, sandboxModeEnv } from '../support/sandbox-child.ts'

describe('a service whose stdout is closed while it serves', () => {
  let dataDir: string
  let child: ChildService

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-closed-stdout-'))
    child = await startChildService(sandboxModeEnv(dataDir, await freePort()))
  })
  afterAll(async () => {
    if (child?.process.exitCode === null) child.process.kill('SIGKILL')
    await child?.exited
    await rm(dataDir, { recursive: true, force: true })
  })

  it('stays up, answers /healthz and still sends mail after the log reader went away', async () => {
    // The read side of the child's stdout pipe goes away: its next log line meets EPIPE.
    child.process.stdout!.destroy()
    // Requests that log: refused sign-ins (warn), a connection (info), a send.
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await fetch(`${child.url}/admin/login`, {
        method: 'POST',
        body: new URLSearchParams({ token: 'wrong-admin-token', next: '/admin' }),
        redirect: 'manual',
      })
      expect(refused.status).not.toBe(303)
    }
    expect(await connectSandboxAccount(child, 'logs@example.com')).toBe(302)
    const accepted = await child.client.mail.send.mutate({
      to: 'ann@example.com',
      subject: 'Still here',
      text: 'x',
    })
    const settled = await waitFor(async () => {
      const record = await child.client.mail.get.query({ id: accepted.id })
      return record.status === 'queued' || record.status === 'sending' ? undefined : record
    })
    expect(settled.status).toBe('sent')

    const health = await fetch(`${child.url}/healthz`)
    expect(health.status).toBe(200)
    expect(child.process.exitCode).toBeNull()
    // Said once, in words, on stderr; no stack trace.
    const notices = child.stderr.filter((line) => line.includes('log output (stdout) is closed'))
    expect(notices).toHaveLength(1)
    expect(child.stderr.join('\n')).not.toMatch(/\bat .*\.ts:\d+/)
  })
})
