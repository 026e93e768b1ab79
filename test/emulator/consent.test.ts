import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createGoogleEmulator } from '../../src/emulator/emulator.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { answerConsent, authorizationUrl, GMAIL_SEND, oauthClient, REDIRECT_URI } from './oauth-fixtures.ts'

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

function authQuery(overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'client-1',
    redirect_uri: REDIRECT_URI,
    scope: `${GMAIL_SEND} openid email`,
    state: 'state-123',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    access_type: 'offline',
    ...overrides,
  }
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value)
  return query.toString()
}

describe('the emulated consent screen', () => {
  let running: RunningEmulator
  beforeEach(async () => {
    running = await startEmulator()
  })
  afterEach(async () => {
    await running.close()
  })

  test('shows the sandbox banner, the requested scopes and the login hint, under a strict CSP', async () => {
    const response = await fetch(
      `${running.endpoints.authUrl}?${authQuery({ login_hint: 'ann@example.com' })}`,
    )
    const page = await response.text()
    expect(response.status).toBe(200)
    expect(page).toContain('Sandbox: this is an emulator of Google; nothing leaves this machine')
    expect(page).toContain(GMAIL_SEND)
    expect(page).toContain('value="ann@example.com"')
    expect(page).toMatch(/<button[^>]*value="allow"[^>]*>Allow<\/button>/)
    expect(page).toMatch(/<button[^>]*value="deny"[^>]*>Deny<\/button>/)
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:9; frame-ancestors 'none'",
    )
    expect(response.headers.get('referrer-policy')).toBe('no-referrer')
  })

  test('escapes the values it echoes', async () => {
    const response = await fetch(
      `${running.endpoints.authUrl}?${authQuery({ state: '"><script>alert(1)</script>', login_hint: '<b>x</b>' })}`,
    )
    const page = await response.text()
    expect(page).not.toContain('<script>')
    expect(page).not.toContain('<b>x</b>')
    expect(page).toContain('&lt;script&gt;')
  })

  test.each([
    ['a plain PKCE method', { code_challenge_method: 'plain' }],
    ['no PKCE challenge', { code_challenge: undefined, code_challenge_method: undefined }],
    ['no gmail.send scope', { scope: 'openid email' }],
    ['no state', { state: undefined }],
    ['a token response type', { response_type: 'token' }],
    ['a relative redirect URI', { redirect_uri: '/callback' }],
  ])('refuses a request with %s with an error page', async (_name, overrides) => {
    const response = await fetch(`${running.endpoints.authUrl}?${authQuery(overrides)}`)
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('Access blocked')
  })

  test('Allow redirects to the client with a code, the state and the scopes', async () => {
    const { url } = await authorizationUrl(oauthClient(running), { state: 'xyz' })
    const redirect = await answerConsent(url, 'Ann@Example.com', 'allow')
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT_URI)
    expect(redirect.searchParams.get('code')).toBeTruthy()
    expect(redirect.searchParams.get('state')).toBe('xyz')
    expect(redirect.searchParams.get('scope')).toContain(GMAIL_SEND)
  })

  test('Deny redirects with error=access_denied and the state, and no code', async () => {
    const { url } = await authorizationUrl(oauthClient(running), { state: 'xyz' })
    const redirect = await answerConsent(url, 'ann@example.com', 'deny')
    expect(redirect.searchParams.get('error')).toBe('access_denied')
    expect(redirect.searchParams.get('state')).toBe('xyz')
    expect(redirect.searchParams.has('code')).toBe(false)
  })

  test('Allow without a valid email shows the page again with the problem', async () => {
    const page = await (await fetch(`${running.endpoints.authUrl}?${authQuery()}`)).text()
    const form = new URLSearchParams()
    for (const [, name, value] of page.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
      form.append(name!, value!)
    }
    form.set('email', 'not an email')
    form.set('decision', 'allow')
    const response = await fetch(running.endpoints.authUrl, {
      method: 'POST',
      body: form,
      redirect: 'manual',
    })
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('Enter a valid email address.')
  })

  test('approveConsent gives the redirect a browser would get', async () => {
    const { url } = await authorizationUrl(oauthClient(running), { state: 's-1' })
    const redirect = new URL(await running.emulator.control.approveConsent(url, 'bob@example.com'))
    expect(redirect.searchParams.get('state')).toBe('s-1')
    expect(redirect.searchParams.get('code')).toBeTruthy()
    await expect(
      running.emulator.control.approveConsent(url.replace('S256', 'plain'), 'bob@example.com'),
    ).rejects.toThrow(/S256/)
  })
})

test('the consent form posts back under any mount prefix', async () => {
  const service = new Hono()
  service.route('/_google', createGoogleEmulator().app)
  const page = await (await service.request(`/_google/o/oauth2/v2/auth?${authQuery()}`)).text()
  const action = /<form method="post" action="([^"]*)">/.exec(page)?.[1]
  const target = new URL(action!, `http://localhost/_google/o/oauth2/v2/auth?${authQuery()}`)
  expect(target.pathname).toBe('/_google/o/oauth2/v2/auth')
})

test('a registered client list refuses unknown clients and unregistered redirect URIs', async () => {
  const running = await startEmulator({
    clients: [{ clientId: 'client-1', clientSecret: 'secret-1', redirectUris: [REDIRECT_URI] }],
  })
  try {
    const unknown = await fetch(`${running.endpoints.authUrl}?${authQuery({ client_id: 'someone-else' })}`)
    expect(unknown.status).toBe(400)
    expect(await unknown.text()).toContain('invalid_client')
    const elsewhere = await fetch(
      `${running.endpoints.authUrl}?${authQuery({ redirect_uri: 'https://evil.example/cb' })}`,
    )
    expect(elsewhere.status).toBe(400)
    expect(await elsewhere.text()).toContain('redirect_uri_mismatch')
  } finally {
    await running.close()
  }
})
