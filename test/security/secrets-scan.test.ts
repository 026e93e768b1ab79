/**
 * The whole credential lifecycle in real mode (the service pointed at an
 * external Google emulator, so that no sandbox secrets file exists), then a
 * scan of every log line, every file under DATA_DIR and every answer for
 * every secret's value: none may appear, in clear or in base64.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient } from '../../src/client.ts'
import { waitFor } from '../support/delivery-wait.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { type RunningService, startService } from '../support/service.ts'
import { authorize, walk } from './support.ts'

const CLIENT_ID = 'scan-client.apps.example'
const CLIENT_SECRET = 'scan-client-secret-Zx9Qw7Lp3Rt5'
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64')
const EMAIL = 'owner@example.com'

interface GrantsExport {
  refreshTokens: Array<{ token: string }>
  accessTokens: Array<{ token: string }>
}

describe('no secret is readable in logs, files or answers after the whole flow', () => {
  let emulator: RunningEmulator
  let running: RunningService
  const answers: string[] = []
  const tokens = new Set<string>()
  const codes = new Set<string>()

  /** fetch that keeps every answer's status line, headers and body for the scan. */
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    const body = await response.clone().text()
    answers.push(`${response.status} ${JSON.stringify([...response.headers])}\n${body}`)
    return response
  }
  const collectTokens = () => {
    const grants = emulator.emulator.control.exportGrants() as GrantsExport
    for (const { token } of [...grants.refreshTokens, ...grants.accessTokens]) tokens.add(token)
  }
  const connect = async (loginHint?: string) => {
    const flow = await authorize({
      url: running.url,
      adminToken: running.adminToken,
      control: emulator.emulator.control,
      email: EMAIL,
      ...(loginHint ? { loginHint } : {}),
    })
    codes.add(new URL(flow.callbackUrl).searchParams.get('code')!)
    const callback = await recordingFetch(flow.callbackUrl, {
      headers: { Cookie: flow.stateCookie },
      redirect: 'manual',
    })
    expect(callback.status).toBe(302)
    collectTokens()
  }

  beforeAll(async () => {
    emulator = await startEmulator({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] })
    running = await startService({
      GOOGLE_CLIENT_ID: CLIENT_ID,
      GOOGLE_CLIENT_SECRET: CLIENT_SECRET,
      GOOGLE_AUTH_URL: emulator.endpoints.authUrl,
      GOOGLE_TOKEN_URL: emulator.endpoints.tokenUrl,
      GOOGLE_REVOKE_URL: emulator.endpoints.revokeUrl,
      GOOGLE_USERINFO_URL: emulator.endpoints.userinfoUrl,
      GMAIL_API_URL: emulator.endpoints.gmailApiUrl,
      TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
      GMAIL_SENDS_PER_MINUTE: '0',
    })
    const client = createMailClient({
      url: `${running.url}/trpc`,
      apiKey: running.apiKey,
      fetch: recordingFetch,
    })
    const control = emulator.emulator.control

    // Connect, send.
    await connect()
    expect(
      (await client.mail.send.mutate({ to: 'a@example.net', subject: 'One', text: 'first' })).status,
    ).toBe('sent')
    // Refresh: access tokens die, the next send refreshes.
    control.expireAccessTokens()
    expect(
      (await client.mail.send.mutate({ to: 'a@example.net', subject: 'Two', text: 'second' })).status,
    ).toBe('sent')
    collectTokens()
    // Revoke: the user removes the app's access; mail is held.
    control.revokeAccount(EMAIL)
    const held = await client.mail.send.mutate({ to: 'a@example.net', subject: 'Three', text: 'third' })
    expect(held.status).toBe('held')
    // Reauthorize: the held message goes out.
    await connect(EMAIL)
    await waitFor(
      async () => ((await client.mail.get.query({ id: held.id })).status === 'sent' ? true : undefined),
      {
        what: 'the held message to be sent',
      },
    )
    // A few refusals and pages, whose answers are scanned too.
    await recordingFetch(`${running.url}/trpc/mail.send`, {
      method: 'POST',
      headers: { Authorization: 'Bearer wrong-key-0123456789abcdef', 'Content-Type': 'application/json' },
      body: '{}',
    })
    await client.mail.send.mutate({ to: 'bad', subject: 'x', text: 'y' }).catch(() => undefined)
    await client.accounts.list.query()
    await client.mail.list.query({ limit: 10 })
    for (const path of ['/admin', '/readyz', '/healthz', '/oauth/callback?state=x&code=y']) {
      await recordingFetch(`${running.url}${path}`, {
        headers: { Authorization: `Bearer ${running.adminToken}` },
        redirect: 'manual',
      })
    }
    await recordingFetch(`${running.url}/oauth/login`, {
      headers: { Authorization: `Bearer ${running.adminToken}` },
      redirect: 'manual',
    })
    await running.stop({ keepData: true })
  }, 60_000)

  afterAll(async () => {
    await emulator?.close()
    const { rm } = await import('node:fs/promises')
    if (running) await rm(running.dataDir, { recursive: true, force: true })
  })

  const secrets = () => {
    const named: Array<[string, string]> = [
      ['client secret', CLIENT_SECRET],
      ['API key', running.apiKey],
      ['admin token', running.adminToken],
      ['encryption key', ENCRYPTION_KEY],
      ...[...tokens].map((token): [string, string] => [`token ${token.slice(0, 6)}…`, token]),
      ...[...codes].map((code): [string, string] => [`authorization code ${code.slice(0, 6)}…`, code]),
    ]
    // Also each secret as base64 and base64url, the usual ways of "hiding" a value.
    return named.flatMap(([name, value]): Array<[string, string]> => {
      const base64 = Buffer.from(value).toString('base64')
      return [
        [name, value],
        [`${name} (base64)`, base64.replace(/=+$/, '')],
        [`${name} (base64url)`, Buffer.from(value).toString('base64url')],
      ]
    })
  }

  it('went through connect, refresh, revoke and reauthorize with real tokens', () => {
    // Two connections, one refresh: at least two refresh tokens and three access tokens were minted.
    expect(tokens.size).toBeGreaterThanOrEqual(4)
    expect(codes.size).toBe(2)
    expect(running.logs.length).toBeGreaterThan(5)
  })

  it('writes no secret into any log line', () => {
    const logs = running.logs.join('\n')
    for (const [name, value] of secrets()) expect(logs.includes(value), `${name} in the logs`).toBe(false)
  })

  it('writes no secret into any file under DATA_DIR, and no sandbox secrets file exists', async () => {
    const entries = await walk(running.dataDir)
    const files = entries.filter((entry) => !entry.directory)
    expect(files.length).toBeGreaterThan(0)
    expect(files.map((file) => file.path).join('\n')).not.toMatch(
      /sandbox-secrets\.json|sandbox-google\.sealed/,
    )
    for (const file of files) {
      const content = (await readFile(file.path)).toString('latin1')
      for (const [name, value] of secrets()) {
        expect(content.includes(value), `${name} in ${file.path.slice(running.dataDir.length)}`).toBe(false)
      }
    }
  })

  it('keeps DATA_DIR owner-only: files 0600, folders 0700', async () => {
    for (const entry of await walk(running.dataDir)) {
      const where = entry.path.slice(running.dataDir.length) || '/'
      expect(entry.mode.toString(8), where).toBe(entry.directory ? '700' : '600')
    }
  })

  it('puts no secret into any answer', () => {
    expect(answers.length).toBeGreaterThan(10)
    const all = answers.join('\n')
    for (const [name, value] of secrets()) expect(all.includes(value), `${name} in an answer`).toBe(false)
  })
})
