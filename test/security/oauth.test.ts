/**
 * The admin's OAuth flow by the book (RFC 9700, RFC 7636): the request's
 * parameters, the exact redirect URI, and a callback that changes no stored
 * credential on any failure. Real mode against an external emulator that,
 * like Google, compares the redirect URI byte for byte.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Fault } from '../../src/emulator/emulator.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { type RunningService, startService } from '../support/service.ts'
import { type Answer, answerOf, authorize, reasonOf } from './support.ts'

const CLIENT = { clientId: 'oauth-client.apps.example', clientSecret: 'oauth-client-secret-0123456789' }
const PUBLIC_URL = 'https://mail.example.test'
const EMAIL = 'ops@example.com'

function realModeEnv(emulator: RunningEmulator, publicUrl: string): Record<string, string> {
  return {
    GOOGLE_CLIENT_ID: CLIENT.clientId,
    GOOGLE_CLIENT_SECRET: CLIENT.clientSecret,
    GOOGLE_AUTH_URL: emulator.endpoints.authUrl,
    GOOGLE_TOKEN_URL: emulator.endpoints.tokenUrl,
    GOOGLE_REVOKE_URL: emulator.endpoints.revokeUrl,
    GOOGLE_USERINFO_URL: emulator.endpoints.userinfoUrl,
    GMAIL_API_URL: emulator.endpoints.gmailApiUrl,
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
    GMAIL_SENDS_PER_MINUTE: '0',
    PUBLIC_URL: publicUrl,
  }
}

describe('the OAuth flow, by the book', () => {
  let emulator: RunningEmulator
  let running: RunningService

  /** The callback URL Google redirects to, fetched on the service's real address (PUBLIC_URL is a proxy's). */
  const followCallback = (callbackUrl: string, cookie?: string): Promise<Answer> => {
    const url = new URL(callbackUrl)
    expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_URL}/oauth/callback`)
    return fetch(`${running.url}${url.pathname}${url.search}`, {
      headers: cookie ? { Cookie: cookie } : {},
      redirect: 'manual',
    }).then(answerOf)
  }
  const start = () =>
    authorize({
      url: running.url,
      adminToken: running.adminToken,
      control: emulator.emulator.control,
      email: EMAIL,
    })
  const storedAccounts = () => readFile(join(running.dataDir, 'accounts.json'), 'utf8')

  beforeAll(async () => {
    emulator = await startEmulator({
      clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }],
    })
    // A trailing slash in PUBLIC_URL must not change the redirect URI.
    running = await startService(realModeEnv(emulator, `${PUBLIC_URL}/`))
    const flow = await start()
    const callback = await followCallback(flow.callbackUrl, flow.stateCookie)
    expect(callback.status).toBe(302)
    expect(callback.headers.get('location')).toBe(
      `/admin?notice=connected&subject=${encodeURIComponent(EMAIL)}`,
    )
  })
  afterAll(async () => {
    await running?.stop()
    await emulator?.close()
  })

  it('asks for a code with PKCE S256, a fresh high-entropy state, offline access and the exact redirect URI', async () => {
    const first = new URL((await start()).authorizationUrl)
    const second = new URL((await start()).authorizationUrl)
    const params = first.searchParams
    expect(params.get('response_type')).toBe('code')
    expect(params.get('code_challenge_method')).toBe('S256')
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(params.get('redirect_uri')).toBe(`${PUBLIC_URL}/oauth/callback`)
    expect(params.get('access_type')).toBe('offline')
    expect(params.get('prompt')).toBe('consent')
    expect(params.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['https://www.googleapis.com/auth/gmail.send', 'openid', 'email']),
    )
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{32,}$/)
    expect(second.searchParams.get('state')).not.toBe(params.get('state'))
    expect(second.searchParams.get('code_challenge')).not.toBe(params.get('code_challenge'))
  })

  it('is refused by Google when PUBLIC_URL does not give the registered redirect URI exactly', async () => {
    const elsewhere = await startService(realModeEnv(emulator, 'https://mail.example.test:8443'))
    try {
      const login = await fetch(`${elsewhere.url}/oauth/login`, {
        headers: { Authorization: `Bearer ${elsewhere.adminToken}` },
        redirect: 'manual',
      })
      await expect(
        emulator.emulator.control.approveConsent(login.headers.get('location')!, EMAIL),
      ).rejects.toThrow(/redirect_uri/)
    } finally {
      await elsewhere.stop()
    }
  })

  const faults: Array<[string, 'token' | 'userinfo', Fault[]]> = [
    ['the token endpoint fails', 'token', [{ kind: 'status', status: 500 }]],
    [
      'the token endpoint refuses the code',
      'token',
      [{ kind: 'status', status: 400, reason: 'invalid_grant' }],
    ],
    ['the token endpoint drops the connection', 'token', [{ kind: 'reset' }]],
    ['userinfo fails', 'userinfo', [{ kind: 'status', status: 503 }]],
    ['userinfo refuses the token', 'userinfo', [{ kind: 'status', status: 401 }]],
  ]

  it.each(faults)(
    'changes no stored credential when %s, and says so plainly',
    async (_name, endpoint, list) => {
      const before = await storedAccounts()
      const flow = await start()
      // Every attempt fails, retries included (the library retries a failed exchange).
      emulator.emulator.control.setFaultRate(endpoint, { probability: 1, faults: list })
      let answer: Answer
      try {
        answer = await followCallback(flow.callbackUrl, flow.stateCookie)
      } finally {
        emulator.emulator.control.setFaultRate(endpoint, undefined)
      }
      expect(answer.status).toBe(400)
      expect(reasonOf(answer)).toMatch(
        /Google did not confirm the authorization|could not be exchanged|Google/,
      )
      expect(reasonOf(answer)).toContain('No stored credential was changed')
      expect(answer.text).not.toMatch(/ya29\.|1\/\/|4\/0|client_secret|\bat .+\.ts:\d+/)
      expect(await storedAccounts()).toBe(before)
      expect(answer.headers.getSetCookie().join()).toMatch(/oauth_state=;.*Max-Age=0/i)
    },
  )

  it('changes no stored credential on a denial, a forged, a replayed or a cross-browser state', async () => {
    const before = await storedAccounts()
    const denied = await start()
    const denial = await fetch(
      `${running.url}/oauth/callback?${new URLSearchParams({ state: denied.state, error: 'access_denied' })}`,
      { headers: { Cookie: denied.stateCookie } },
    ).then(answerOf)
    expect(denial.status).toBe(400)
    expect(reasonOf(denial)).toMatch(/Access was denied on Google’s consent screen; nothing was changed/)
    expect(reasonOf(denial)).toMatch(/Try again/)

    const flow = await start()
    const foreign = await followCallback(flow.callbackUrl) // no cookie: another browser
    expect(reasonOf(foreign)).toMatch(/started in another browser/)
    // The attempt spent the state: the right browser cannot use it either now.
    const replay = await followCallback(flow.callbackUrl, flow.stateCookie)
    expect(replay.status).toBe(400)
    expect(reasonOf(replay)).toMatch(/already used/)

    const forged = await fetch(`${running.url}/oauth/callback?state=${'a'.repeat(64)}&code=4/0forged`, {
      headers: { Cookie: `oauth_state=${'a'.repeat(64)}` },
    }).then(answerOf)
    expect(forged.status).toBe(400)
    expect(await storedAccounts()).toBe(before)
  })

  it('still sends with the stored credentials after all those failures', async () => {
    const record = await running.client.mail.send.mutate({
      to: 'a@example.net',
      subject: 'Still fine',
      text: 'ok',
    })
    expect(record.status).toBe('sent')
  })
})
