/**
 * Failed authentication costs the one who fails: after 20 failures from one
 * client address (API keys, admin bearers, sign-ins alike), that address is
 * answered 429 before any secret it presents is checked, while callers from
 * other addresses are not affected. The service sits behind a trusted proxy
 * here (TRUSTED_PROXIES=127.0.0.1), so `X-Forwarded-For` names the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningService, startService } from '../support/service.ts'

let running: RunningService

beforeAll(async () => {
  running = await startService({ TRUSTED_PROXIES: '127.0.0.1', LOG_LEVEL: 'info' })
})
afterAll(async () => {
  await running?.stop()
})

const from = (address: string, headers: Record<string, string> = {}) => ({
  'X-Forwarded-For': address,
  ...headers,
})

async function callWithKey(address: string, key: string) {
  const response = await fetch(`${running.url}/trpc/accounts.list`, {
    headers: from(address, { Authorization: `Bearer ${key}` }),
  })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

const warnings = (message: string) =>
  running.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line['msg'] === message)

describe('wrong API keys', () => {
  it('slow down their address after 20 (429, Retry-After) while a good key from another address passes', async () => {
    const attacker = '203.0.113.7'
    const statuses: number[] = []
    for (let attempt = 0; attempt < 50; attempt++) {
      statuses.push((await callWithKey(attacker, `wrong-key-${attempt}-0123456789abcdef`)).status)
      if (attempt === 30) expect((await callWithKey('198.51.100.9', running.apiKey)).status).toBe(200)
    }
    expect(statuses.slice(0, 20)).toEqual(Array<number>(20).fill(401))
    expect(statuses.slice(20)).toEqual(Array<number>(30).fill(429))

    const throttled = await callWithKey(attacker, running.apiKey)
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(JSON.parse(throttled.text)).toMatchObject({
      error: {
        message: expect.stringMatching(/^Too many failed authentications from this address; retry in \d+ s$/),
        data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, retryAfterMs: expect.any(Number) },
      },
    })
    expect((await callWithKey('198.51.100.9', running.apiKey)).status).toBe(200)
  })

  it('are logged with the address, at most once a minute per address, and never with the key', () => {
    const lines = warnings('API key refused')
    expect(lines.filter((line) => line['client'] === '203.0.113.7')).toHaveLength(1)
    expect(running.logs.join('\n')).not.toContain('wrong-key-')
  })

  it('ignore X-Forwarded-For from a socket that is not a trusted proxy', async () => {
    const direct = await startService({ LOG_LEVEL: 'info' })
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        const response = await fetch(`${direct.url}/trpc/accounts.list`, {
          headers: from(`192.0.2.${attempt}`, { Authorization: 'Bearer wrong-key-0123456789abcdef' }),
        })
        expect(response.status).toBe(401)
      }
      // All twenty came from 127.0.0.1, whatever the header claimed.
      const next = await fetch(`${direct.url}/trpc/accounts.list`, {
        headers: from('192.0.2.99', { Authorization: `Bearer ${direct.apiKey}` }),
      })
      expect(next.status).toBe(429)
    } finally {
      await direct.stop()
    }
  })
})

describe('the admin', () => {
  it('is slowed down after 20 wrong bearers from one address, and not from another', async () => {
    const attacker = '203.0.113.8'
    const statuses: number[] = []
    for (let attempt = 0; attempt < 25; attempt++) {
      const response = await fetch(`${running.url}/admin`, {
        headers: from(attacker, { Authorization: `Bearer wrong-admin-token-${attempt}-0123456789` }),
        redirect: 'manual',
      })
      statuses.push(response.status)
    }
    expect(statuses.slice(0, 20)).toEqual(Array<number>(20).fill(401))
    expect(statuses.slice(20)).toEqual(Array<number>(5).fill(429))
    const throttled = await fetch(`${running.url}/admin`, {
      headers: from(attacker, { Authorization: `Bearer ${running.adminToken}` }),
    })
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await throttled.json()).toMatchObject({ error: { code: 'TOO_MANY_REQUESTS' } })
    const other = await fetch(`${running.url}/admin`, {
      headers: from('198.51.100.10', { Authorization: `Bearer ${running.adminToken}` }),
    })
    expect(other.status).toBe(200)
    expect(
      warnings('Admin token refused (Authorization header)').filter((line) => line['client'] === attacker),
    ).toHaveLength(1)
  })

  it('is slowed down after 20 wrong sign-ins from one address, and can still sign in from another', async () => {
    const attacker = '203.0.113.9'
    const signIn = (address: string, token: string) =>
      fetch(`${running.url}/admin/login`, {
        method: 'POST',
        headers: from(address),
        body: new URLSearchParams({ token, next: '/admin' }),
        redirect: 'manual',
      })
    const statuses: number[] = []
    for (let attempt = 0; attempt < 25; attempt++) {
      statuses.push((await signIn(attacker, `wrong-sign-in-${attempt}-0123456789`)).status)
    }
    expect(statuses.slice(0, 20)).toEqual(Array<number>(20).fill(401))
    expect(statuses.slice(20)).toEqual(Array<number>(5).fill(429))
    const throttled = await signIn(attacker, running.adminToken)
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await throttled.text()).toMatch(
      /Too many failed authentications from this address; retry in \d+ s/,
    )
    expect((await signIn('198.51.100.11', running.adminToken)).status).toBe(303)
    const lines = warnings('Admin sign-in refused').filter((line) => line['client'] === attacker)
    expect(lines).toHaveLength(1)
    expect(running.logs.join('\n')).not.toContain('wrong-sign-in-')
  })
})
