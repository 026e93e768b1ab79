import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import PostalMime from 'postal-mime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient } from '../../src/client.ts'
import { cookieFrom } from '../support/connect.ts'
import { freePort, type ServiceProcess, spawnService, waitForHealthy } from '../support/process.ts'
import { parseExposition } from '../support/prometheus-text.ts'

const ADMIN = 'deno-admin-token-0123456789'
const KEY = 'deno-api-key-0123456789abcdef'

describe('the same service on Deno (deno task start)', () => {
  let service: ServiceProcess
  let url: string
  let dataDir: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-deno-'))
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    service = spawnService('node_modules/.bin/deno', ['task', 'start'], {
      PORT: String(port),
      PUBLIC_URL: url,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: ADMIN,
      API_KEYS: KEY,
      NO_COLOR: '1',
    })
    await waitForHealthy(`${url}/healthz`, service, 90_000)
  }, 120_000)

  afterAll(async () => {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
  })

  it('connects a sandbox account, sends a message with the typed client, and it arrives', async () => {
    const admin = { Authorization: `Bearer ${ADMIN}` }
    const login = await fetch(`${url}/oauth/login`, { headers: admin, redirect: 'manual' })
    expect(login.status).toBe(302)
    const consent = await fetch(`${url}/admin/sandbox/api/consent`, {
      method: 'POST',
      headers: { ...admin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ authorizationUrl: login.headers.get('location'), email: 'deno@example.com' }),
    })
    expect(consent.status).toBe(200)
    const { redirectUrl } = (await consent.json()) as { redirectUrl: string }
    const callback = await fetch(redirectUrl, {
      headers: { Cookie: cookieFrom(login, 'oauth_state') ?? '' },
      redirect: 'manual',
    })
    expect(callback.status).toBe(302)
    expect(callback.headers.get('location')).toContain('notice=connected&subject=deno%40example.com')

    const client = createMailClient({ url: `${url}/trpc`, apiKey: KEY })
    const record = await client.mail.send.mutate({
      to: 'Ann <ann@example.com>',
      subject: 'Hello from Deno — ünïcode',
      text: 'Sent by the service running on Deno.',
      html: '<p>Sent by the service running on <b>Deno</b>.</p>',
    })
    expect(record).toMatchObject({ status: 'sent', from: 'deno@example.com' })

    const raw = await fetch(`${url}/admin/sandbox/api/mailbox/${record.gmailMessageId}/raw`, {
      headers: admin,
    })
    expect(raw.status).toBe(200)
    const parsed = await PostalMime.parse(new Uint8Array(await raw.arrayBuffer()))
    expect(parsed.subject).toBe('Hello from Deno — ünïcode')
    expect(parsed.to).toEqual([{ name: 'Ann', address: 'ann@example.com' }])
    expect(parsed.html).toContain('<b>Deno</b>')
  })

  it('knows the client address of a refused key (the brute-force guard counts it)', async () => {
    const refused = await fetch(`${url}/trpc/accounts.list`, {
      headers: { Authorization: 'Bearer wrong-key-for-deno-0123456789' },
    })
    expect(refused.status).toBe(401)
    const deadline = Date.now() + 5_000
    while (!service.output().includes('API key refused') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const line = service
      .output()
      .split('\n')
      .find((each) => each.includes('API key refused'))
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 'warn', client: '127.0.0.1' })
  })

  it('answers GET /metrics in the Prometheus text format, with the send counted and the runtime measured', async () => {
    expect((await fetch(`${url}/metrics`)).status).toBe(401)
    const response = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${ADMIN}` } })
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    const metrics = parseExposition(text)
    expect(metrics.value('gmail_mail_messages_total', { outcome: 'sent' })).toBe(1)
    expect(metrics.value('gmail_mail_gmail_requests_total', { result: 'sent' })).toBe(1)
    expect(metrics.value('gmail_mail_outbox_messages', { status: 'sent' })).toBe(1)
    expect(metrics.value('gmail_mail_accounts', { status: 'connected' })).toBe(1)
    // prom-client's default metrics, read from Deno's Node compatibility layer.
    expect(metrics.value('process_cpu_seconds_total')).toBeGreaterThan(0)
    expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0)
    expect(metrics.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
    expect(metrics.families.get('nodejs_eventloop_lag_p99_seconds')?.type).toBe('gauge')
    expect(text).not.toContain('@')
  })

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    service.child.kill('SIGTERM')
    expect(await service.exited).toBe(0)
  })
})
