import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { authorizationUrl, connectAccount, oauthClient } from './oauth-fixtures.ts'

const MESSAGE = 'From: ann@example.com\r\nTo: bob@example.com\r\nSubject: Hi\r\n\r\nHello.\r\n'

describe('the emulator control API', () => {
  let running: RunningEmulator
  let control: (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>
  let accessToken: string

  beforeEach(async () => {
    running = await startEmulator()
    control = (path, init = {}) => {
      const { json, ...rest } = init
      return fetch(`${running.baseUrl}/_control${path}`, {
        ...rest,
        ...(json === undefined
          ? {}
          : {
              method: rest.method ?? 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(json),
            }),
      })
    }
    accessToken = (await connectAccount(oauthClient(running), 'ann@example.com')).access_token!
  })
  afterEach(async () => {
    await running.close()
  })

  const send = () =>
    fetch(`${running.baseUrl}/gmail/v1/users/me/messages/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ raw: Buffer.from(MESSAGE).toString('base64url') }),
    })

  test('lists the mailbox, serves a raw message and clears the mailbox', async () => {
    const { id } = await (await send()).json()
    const list = await (await control('/mailbox')).json()
    expect(list.messages).toHaveLength(1)
    expect(list.messages[0]).toMatchObject({
      id,
      account: 'ann@example.com',
      to: ['bob@example.com'],
      subject: 'Hi',
    })
    expect(list.messages[0].raw).toBeUndefined()
    const raw = await control(`/mailbox/${id}/raw`)
    expect(raw.headers.get('content-type')).toBe('message/rfc822')
    expect(await raw.text()).toBe(MESSAGE)
    expect((await control('/mailbox/0000000000000000/raw')).status).toBe(404)
    expect((await control('/mailbox', { method: 'DELETE' })).status).toBe(204)
    expect((await (await control('/mailbox')).json()).messages).toEqual([])
  })

  test('queues faults and sets a fault rate', async () => {
    expect(
      (await control('/faults', { json: { endpoint: 'send', faults: [{ kind: 'status', status: 502 }] } }))
        .status,
    ).toBe(204)
    expect((await send()).status).toBe(502)
    const rate = await control('/fault-rate', {
      json: { endpoint: 'send', probability: 1, faults: [{ kind: 'status', status: 500 }] },
    })
    expect(rate.status).toBe(204)
    expect((await send()).status).toBe(500)
    await control('/fault-rate', { json: { endpoint: 'send', probability: 0, faults: [] } })
    expect((await send()).status).toBe(200)
  })

  test('sets and clears the quota', async () => {
    await control('/quota', { json: { sendsPerMinute: 0 } })
    const limited = await send()
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBeTruthy()
    await control('/quota', { json: { sendsPerMinute: null } })
    expect((await send()).status).toBe(200)
  })

  test('revokes an account and expires access tokens', async () => {
    await control('/expire-access-tokens', { method: 'POST' })
    expect((await send()).status).toBe(401)
    accessToken = (await connectAccount(oauthClient(running), 'ann@example.com')).access_token!
    expect((await send()).status).toBe(200)
    await control('/revoke-account', { json: { email: 'ann@example.com' } })
    expect((await send()).status).toBe(401)
  })

  test('approves a consent for a test without a browser', async () => {
    const { url } = await authorizationUrl(oauthClient(running), { state: 'st' })
    const response = await control('/consent', { json: { authorizationUrl: url, email: 'bob@example.com' } })
    const { redirectUrl } = await response.json()
    expect(new URL(redirectUrl).searchParams.get('state')).toBe('st')
    const refused = await control('/consent', {
      json: { authorizationUrl: 'http://x/?a=b', email: 'bob@example.com' },
    })
    expect(refused.status).toBe(400)
  })

  test('reports statistics and resets everything', async () => {
    await send()
    const stats = await (await control('/stats')).json()
    expect(stats.calls).toMatchObject({ send: 1, token: 1, auth: 2 })
    expect((await control('/reset', { method: 'POST' })).status).toBe(204)
    expect(await (await control('/stats')).json()).toEqual({
      calls: { auth: 0, token: 0, userinfo: 0, revoke: 0, send: 0, upload: 0 },
      rateLimited: 0,
      faultsInjected: 0,
    })
    expect((await send()).status).toBe(401)
  })

  test.each([
    ['/faults', { endpoint: 'nowhere', faults: [{ kind: 'reset' }] }, 'endpoint'],
    ['/faults', { endpoint: 'send', faults: [{ kind: 'status', status: 200 }] }, 'faults.0.status'],
    ['/faults', { endpoint: 'send', faults: [{ kind: 'explode' }] }, 'faults.0'],
    ['/fault-rate', { endpoint: 'send', probability: 0.5, faults: [] }, 'faults'],
    ['/quota', { sendsPerMinute: -1 }, 'sendsPerMinute'],
    ['/revoke-account', { email: 'a@b.c', extra: true }, 'body'],
  ])('refuses a bad body for %s, naming the field', async (path, json, field) => {
    const response = await control(path, { json })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toContain(field)
  })

  test('refuses a body that is not JSON', async () => {
    const response = await control('/quota', { method: 'POST', body: 'nope' })
    expect(response.status).toBe(400)
  })
})
