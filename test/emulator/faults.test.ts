import type { OAuth2Client } from 'google-auth-library'
import { afterEach, describe, expect, test } from 'vitest'
import { createGoogleEmulator } from '../../src/emulator/emulator.ts'
import { dropsConnections, type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { connectAccount, oauthClient } from './oauth-fixtures.ts'

const RAW = Buffer.from('To: bob@example.com\r\nSubject: hi\r\n\r\nHello.\r\n').toString('base64url')

let running: RunningEmulator | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function connected(): Promise<{ emulator: RunningEmulator; auth: OAuth2Client }> {
  running = await startEmulator()
  const auth = oauthClient(running)
  auth.setCredentials(await connectAccount(auth, 'ann@example.com'))
  return { emulator: running, auth }
}

function send(emulator: RunningEmulator, auth: OAuth2Client): Promise<Response> {
  return fetch(`${emulator.baseUrl}/gmail/v1/users/me/messages/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${auth.credentials.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ raw: RAW }),
  })
}

describe('injected faults on messages.send', () => {
  test('a status fault answers in Google’s error format, with Retry-After when given, then the queue moves on', async () => {
    const { emulator, auth } = await connected()
    emulator.emulator.control.injectFaults('send', [
      { kind: 'status', status: 429, reason: 'rateLimitExceeded', retryAfterSeconds: 7 },
      { kind: 'status', status: 503 },
    ])
    const limited = await send(emulator, auth)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('7')
    expect(await limited.json()).toEqual({
      error: {
        code: 429,
        message: 'Rate Limit Exceeded',
        errors: [{ message: 'Rate Limit Exceeded', domain: 'usageLimits', reason: 'rateLimitExceeded' }],
        status: 'RESOURCE_EXHAUSTED',
      },
    })
    const unavailable = await send(emulator, auth)
    expect(unavailable.status).toBe(503)
    expect((await unavailable.json()).error).toMatchObject({
      code: 503,
      errors: [{ reason: 'backendError' }],
    })
    expect((await send(emulator, auth)).status).toBe(200)
    expect(emulator.emulator.control.mailbox()).toHaveLength(1)
    expect(emulator.emulator.control.stats()).toMatchObject({ faultsInjected: 2, calls: { send: 3 } })
  })

  test.runIf(dropsConnections)('a reset drops the connection and stores nothing', async () => {
    const { emulator, auth } = await connected()
    emulator.emulator.control.injectFaults('send', [{ kind: 'reset' }])
    await expect(send(emulator, auth)).rejects.toThrow(TypeError)
    expect(emulator.emulator.control.mailbox()).toHaveLength(0)
  })

  test.runIf(dropsConnections)(
    'a reset after send stores the message although the caller sees a dropped connection',
    async () => {
      const { emulator, auth } = await connected()
      emulator.emulator.control.injectFaults('send', [{ kind: 'reset-after-send' }])
      await expect(send(emulator, auth)).rejects.toThrow(TypeError)
      expect(emulator.emulator.control.mailbox()).toHaveLength(1)
    },
  )

  test('a delay still answers normally', async () => {
    const { emulator, auth } = await connected()
    emulator.emulator.control.injectFaults('send', [{ kind: 'delay', ms: 20 }])
    expect((await send(emulator, auth)).status).toBe(200)
    expect(emulator.emulator.control.mailbox()).toHaveLength(1)
  })

  test('a fault rate fails the requests its random draws pick', async () => {
    const { emulator, auth } = await connected()
    // Draws: 0.1 < 0.5 fails (then 0 picks the first fault), 0.9 passes.
    const draws = [0.1, 0, 0.9]
    emulator.emulator.control.setFaultRate('send', {
      probability: 0.5,
      faults: [{ kind: 'status', status: 500 }],
      random: () => draws.shift() ?? 1,
    })
    expect((await send(emulator, auth)).status).toBe(500)
    expect((await send(emulator, auth)).status).toBe(200)
    emulator.emulator.control.setFaultRate('send', undefined)
    expect((await send(emulator, auth)).status).toBe(200)
  })
})

describe('injected faults on the OAuth endpoints', () => {
  test('a token fault answers in the OAuth error format', async () => {
    running = await startEmulator()
    running.emulator.control.injectFaults('token', [{ kind: 'status', status: 400, reason: 'invalid_grant' }])
    const response = await fetch(running.endpoints.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'c' }),
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    })
  })

  test.runIf(dropsConnections)(
    'a refresh cut off after it happened leaves the rotated-out token dead',
    async () => {
      running = await startEmulator({ rotateRefreshTokens: true })
      const tokens = await connectAccount(oauthClient(running), 'ann@example.com')
      running.emulator.control.injectFaults('token', [{ kind: 'reset-after-send' }])
      const refresh = () =>
        fetch(running!.endpoints.tokenUrl, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: tokens.refresh_token!,
            client_id: 'client-1',
          }),
        })
      await expect(refresh()).rejects.toThrow(TypeError)
      expect(await (await refresh()).json()).toMatchObject({ error: 'invalid_grant' })
    },
  )

  test('the consent page can fail too', async () => {
    running = await startEmulator()
    running.emulator.control.injectFaults('auth', [{ kind: 'status', status: 500 }])
    const response = await fetch(running.endpoints.authUrl)
    expect(response.status).toBe(500)
    expect(response.headers.get('content-type')).toContain('text/html')
  })
})

test('off Node (no socket to destroy) a reset becomes a 503', async () => {
  const emulator = createGoogleEmulator()
  emulator.control.injectFaults('userinfo', [{ kind: 'reset' }])
  const response = await emulator.app.request('/v1/userinfo')
  expect(response.status).toBe(503)
})

test('malformed faults are refused', () => {
  const { control } = createGoogleEmulator()
  expect(() => control.injectFaults('send', [{ kind: 'status', status: 200 }])).toThrow(RangeError)
  expect(() => control.setFaultRate('send', { probability: 2, faults: [{ kind: 'reset' }] })).toThrow(
    RangeError,
  )
})
