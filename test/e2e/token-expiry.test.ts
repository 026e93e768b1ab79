/**
 * A warning before Google ends a refresh token, end to end: the real
 * service in sandbox mode (the emulator inside it, on the same injected
 * clock), moved through days by the test. An app in Testing
 * (`GOOGLE_APP_TESTING`) and a time-limited grant (`refresh_token_expires_in`):
 * the deadline shown, the warning given once 24 h before (banner, /readyz,
 * the account's record, a log line, one `account.expiring` to a registered
 * endpoint), the mail held after it, and a
 * reauthorization that brings a new deadline and sends what was held.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createMailClient, type MailClient, type MailRecord } from '../../src/client.ts'
import { leap, type ManualTime, manualTime } from '../fakes/clock.ts'
import { connectAccount } from '../support/connect.ts'
import { numbered, waitFor } from '../support/delivery-wait.ts'
import { type RunningService, startService } from '../support/service.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts'

const EMAIL = 'support@example.com'
const hour = 3_600_000
const day = 24 * hour
const ENV = {
  GMAIL_SENDS_PER_MINUTE: '0',
  SEND_WAIT_MS: '0',
  API_RATE_LIMIT_PER_MINUTE: '0',
  LOG_LEVEL: 'info',
}
const WARNING = "An account's Google access ends within 24 h; reauthorize at /admin"

let running: RunningService | undefined
let receiver: WebhookReceiver | undefined
afterEach(async () => {
  await running?.stop()
  await receiver?.close()
  running = undefined
  receiver = undefined
})

/** The service on a clock the test moves; it starts at the real time, as Google's own expiries count from it. */
async function start(env: Record<string, string>): Promise<{ service: RunningService; time: ManualTime }> {
  const time = manualTime(Date.now())
  running = await startService({ ...ENV, ...env }, { clock: time, scheduler: time })
  return { service: running, time }
}

/** The `account.expiring` events a receiver got (the body only: its signature's timestamp is the service's clock, days ahead). */
/**
 * The distinct `account.expiring` events received: delivery is at least once,
 * so an attempt may be repeated (a clock leaping past a lease), under its one id.
 */
const expiringEvents = (hooks: WebhookReceiver) => [
  ...new Map(
    hooks.received
      .map((request) => ({
        id: request.id,
        ...(JSON.parse(request.body) as { type: string; data: unknown }),
      }))
      .filter((event) => event.type === 'account.expiring')
      .map((event) => [event.id, event]),
  ).values(),
]

async function connect(service: RunningService, consent?: { accessSeconds: number }) {
  const result = await connectAccount({
    url: service.url,
    adminToken: service.adminToken,
    control: service.service.sandbox!.control,
    email: EMAIL,
    ...(consent === undefined ? {} : { consent }),
  })
  expect(result.callbackStatus).toBe(302)
  expect(result.location).toContain('/admin')
}

const iso = (ms: number) => new Date(ms).toISOString()

async function readiness(service: RunningService) {
  const response = await fetch(`${service.url}/readyz`)
  return { status: response.status, text: await response.text() }
}

async function consoleHtml(service: RunningService): Promise<string> {
  const response = await fetch(`${service.url}/admin`, {
    headers: { authorization: `Bearer ${service.adminToken}` },
  })
  expect(response.status).toBe(200)
  return response.text()
}

/** The account as stored in DATA_DIR/accounts.json (plain fields; tokens are sealed there). */
async function stored(
  service: RunningService,
): Promise<{ refreshTokenExpiresAt?: number; expiryWarnedFor?: number }> {
  const file = JSON.parse(await readFile(join(service.dataDir, 'accounts.json'), 'utf8'))
  return file.accounts[EMAIL]
}

const expiryLogs = (service: RunningService) =>
  service.logs
    .map((line) => JSON.parse(line))
    .filter((line) => String(line.msg ?? line.message).includes('Google ends'))

async function settled(client: MailClient, id: string, status: MailRecord['status']): Promise<MailRecord> {
  return waitFor(
    async () => {
      const record = await client.mail.get.query({ id })
      return record.status === status ? record : undefined
    },
    { what: `message ${id} to be ${status}` },
  )
}

async function accountIn(client: MailClient, status: string) {
  return waitFor(
    async () => {
      const [account] = await client.accounts.list.query()
      return account?.status === status ? account : undefined
    },
    { what: `the account to be ${status}` },
  )
}

/** Every token the emulator issued: none may appear in a log line. */
function issuedTokens(service: RunningService): string[] {
  const grants = service.service.sandbox!.control.exportGrants() as {
    refreshTokens: Array<{ token: string }>
    accessTokens: Array<{ token: string }>
  }
  return [...grants.refreshTokens, ...grants.accessTokens].map((grant) => grant.token)
}

describe('an app in Testing (GOOGLE_APP_TESTING=true): tokens end 7 days after consent', () => {
  it('shows the deadline, warns once 24 h before, holds the mail after it, and a reauthorization sends it', async () => {
    const { service, time } = await start({ GOOGLE_APP_TESTING: 'true' })
    // An endpoint subscribed to account.expiring, registered through the admin API.
    receiver = await startWebhookReceiver()
    const admin = createMailClient({ url: `${service.url}/trpc`, apiKey: service.adminToken, retries: 0 })
    await admin.admin.webhooks.create.mutate({ url: receiver.url, events: ['account.expiring'] })
    const { client } = service
    const consentAt = time.now()
    await connect(service)
    const deadline = consentAt + 7 * day

    const [account] = await client.accounts.list.query()
    expect(account).toMatchObject({ email: EMAIL, status: 'connected', expiresAt: iso(deadline) })
    expect(await readiness(service)).toEqual({ status: 200, text: JSON.stringify({ status: 'ready' }) })
    const before = await consoleHtml(service)
    expect(before).toContain('Google access ends')
    expect(before).toContain(`datetime="${iso(deadline)}"`)
    expect(before).not.toContain('must be reauthorized before')
    const early = await client.mail.send.mutate(numbered(1))
    await settled(client, early.id, 'sent')

    // Six days on, a minute short of the 24 h notice: nothing said yet.
    await leap(time, 6 * day - 60_000)
    expect(expiryLogs(service)).toEqual([])
    expect((await stored(service)).expiryWarnedFor).toBeUndefined()
    expect(JSON.parse((await readiness(service)).text)).toEqual({ status: 'ready' })

    // 6 days 1 hour: the warning, everywhere the admin looks, once.
    await leap(time, hour + 60_000)
    // The watch's look runs on its own (a store write, an event): its log line comes last.
    const logs = await waitFor(() => (expiryLogs(service).length > 0 ? expiryLogs(service) : undefined), {
      what: 'the expiry warning',
    })
    expect(logs).toEqual([
      expect.objectContaining({ level: 'warn', account: EMAIL, expiresAt: iso(deadline) }),
    ])
    const page = await consoleHtml(service)
    expect(page).toContain(`<strong>${EMAIL}</strong> must be reauthorized before`)
    expect(page).toContain("Google ends this app's access then")
    expect(page).toContain(`href="/oauth/login?login_hint=${encodeURIComponent(EMAIL)}"`)
    const ready = await readiness(service)
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.text)).toEqual({ status: 'ready', warnings: [WARNING] })
    // Anyone may read /readyz: no account in it, not even its domain.
    expect(ready.text).not.toContain('support')
    expect(ready.text).not.toContain('example.com')
    expect(await stored(service)).toMatchObject({
      refreshTokenExpiresAt: deadline,
      expiryWarnedFor: deadline,
    })
    for (const token of issuedTokens(service)) expect(service.logs.join('\n')).not.toContain(token)
    // The record is the event: account.expiring reaches the registered endpoint.
    await waitFor(() => (expiringEvents(receiver!).length > 0 ? true : undefined), {
      what: 'account.expiring',
    })

    // Still good until the deadline: mail goes out, and the warning is not repeated.
    const late = await client.mail.send.mutate(numbered(2))
    await settled(client, late.id, 'sent')
    await leap(time, 22 * hour)
    expect(expiryLogs(service)).toHaveLength(1)

    // Past the 7 days: Google refuses the token; the mail is held, the account needs reauthorization.
    await leap(time, hour)
    const held = await client.mail.send.mutate(numbered(3))
    const heldRecord = await settled(client, held.id, 'held')
    expect(heldRecord.error?.code).toBe('REAUTHORIZATION_REQUIRED')
    // The account is marked right after the hold, on its own.
    const dead = await accountIn(client, 'reauthorization_required')
    expect(dead).toMatchObject({
      status: 'reauthorization_required',
      lastError: { code: 'REAUTHORIZATION_REQUIRED' },
    })
    expect((await readiness(service)).status).toBe(503)
    expect(await consoleHtml(service)).toContain('needs reauthorization')

    // A new consent: a new 7 days, and the held mail goes out.
    const reconsentAt = time.now()
    await connect(service)
    const [again] = await client.accounts.list.query()
    expect(again).toMatchObject({ status: 'connected', expiresAt: iso(reconsentAt + 7 * day) })
    const sent = await settled(client, held.id, 'sent')
    expect(sent.attempts).toBeGreaterThan(1)
    expect(
      service.service.sandbox!.control.mailbox().filter((message) => message.subject === 'Message 3'),
    ).toHaveLength(1)
    expect(await readiness(service)).toEqual({ status: 200, text: JSON.stringify({ status: 'ready' }) })
    expect(await consoleHtml(service)).not.toContain('must be reauthorized before')

    // One account.expiring event, for the first deadline, delivered once to the endpoint.
    const delivered = expiringEvents(receiver!)
    expect(delivered).toHaveLength(1)
    expect(delivered[0]?.data).toMatchObject({
      email: EMAIL,
      status: 'connected',
      expiresAt: iso(deadline),
    })
  })
})

describe('a time-limited grant (refresh_token_expires_in in the token answer)', () => {
  it("takes the deadline from Google's answer, warns a day before it, and holds the mail once it passes", async () => {
    const { service, time } = await start({})
    const { client } = service
    const consentAt = time.now()
    await connect(service, { accessSeconds: 2 * 86_400 })
    const deadline = consentAt + 2 * day
    expect((await client.accounts.list.query())[0]).toMatchObject({
      status: 'connected',
      expiresAt: iso(deadline),
    })

    await leap(time, day + hour)
    expect(JSON.parse((await readiness(service)).text)).toEqual({ status: 'ready', warnings: [WARNING] })
    await waitFor(() => (expiryLogs(service).length > 0 ? true : undefined), { what: 'the expiry warning' })
    expect(await stored(service)).toMatchObject({ expiryWarnedFor: deadline })
    // A refresh reports the same token's remaining lifetime: the deadline, and the warning, stay.
    const sentBefore = await client.mail.send.mutate(numbered(1))
    await settled(client, sentBefore.id, 'sent')
    expect(await stored(service)).toMatchObject({
      refreshTokenExpiresAt: deadline,
      expiryWarnedFor: deadline,
    })
    await leap(time, hour)
    expect(expiryLogs(service)).toHaveLength(1)

    await leap(time, day)
    const held = await client.mail.send.mutate(numbered(2))
    await settled(client, held.id, 'held')
    await accountIn(client, 'reauthorization_required')

    // Reauthorized without a time limit: no deadline any more, nothing to warn of.
    await connect(service)
    const [account] = await client.accounts.list.query()
    expect(account?.status).toBe('connected')
    expect(account).not.toHaveProperty('expiresAt')
    await settled(client, held.id, 'sent')
    expect(JSON.parse((await readiness(service)).text)).toEqual({ status: 'ready' })
  })
})
