/**
 * The real google-auth-library against the project's Google emulator over loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isInvalidGrant } from '../../../src/adapters/google-oauth/errors.ts'
import { createGoogleOAuth, type GoogleOAuth } from '../../../src/adapters/google-oauth/oauth.ts'
import type { GrantedTokens } from '../../../src/domain/credentials/account.ts'
import { startEmulator } from '../../support/emulator-server.ts'

type Server = Awaited<ReturnType<typeof startEmulator>>

const REDIRECT_URI = 'http://localhost:3000/oauth/callback'

function oauthFor(server: Server): GoogleOAuth {
  return createGoogleOAuth({
    clientId: 'client-1.apps.googleusercontent.com',
    clientSecret: 'client-secret-1',
    redirectUri: REDIRECT_URI,
    ...server.endpoints,
    timeoutMs: 10_000,
  })
}

/** The whole authorization code flow with PKCE, the consent given by `email`. */
async function connect(server: Server, oauth: GoogleOAuth, email: string) {
  const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
  const authorizationUrl = oauth.authorizationUrl({ state: 'state-1', codeChallenge, loginHint: email })
  const redirect = new URL(await server.emulator.control.approveConsent(authorizationUrl, email))
  const code = redirect.searchParams.get('code') ?? ''
  return {
    authorizationUrl,
    redirect,
    code,
    codeVerifier,
    tokens: await oauth.exchangeCode({ code, codeVerifier }),
  }
}

describe('google-oauth adapter against the emulator', () => {
  let server: Server
  let oauth: GoogleOAuth

  beforeAll(async () => {
    server = await startEmulator()
    oauth = oauthFor(server)
  })
  afterAll(async () => {
    await server.close()
  })

  it('runs the PKCE authorization: consent, code exchange, account email', async () => {
    const flow = await connect(server, oauth, 'ann@example.com')
    const sent = new URL(flow.authorizationUrl).searchParams
    for (const name of [
      'response_type',
      'client_id',
      'redirect_uri',
      'scope',
      'state',
      'access_type',
      'prompt',
    ]) {
      expect(sent.has(name)).toBe(true)
    }
    expect(sent.get('code_challenge_method')).toBe('S256')
    expect(`${flow.redirect.origin}${flow.redirect.pathname}`).toBe(REDIRECT_URI)
    expect(flow.redirect.searchParams.get('state')).toBe('state-1')
    expect(flow.tokens.accessToken).not.toBe('')
    expect(flow.tokens.refreshToken).toBeTypeOf('string')
    expect(flow.tokens.scopes).toContain('https://www.googleapis.com/auth/gmail.send')
    expect(flow.tokens.expiresAt).toBeGreaterThan(Date.now())
    expect(await oauth.fetchAccountEmail(flow.tokens.accessToken)).toBe('ann@example.com')
  })

  it('lower-cases the account email', async () => {
    const flow = await connect(server, oauth, 'Bob.Smith@Example.COM')
    expect(await oauth.fetchAccountEmail(flow.tokens.accessToken)).toBe('bob.smith@example.com')
  })

  it('refuses a code exchanged with the wrong verifier, quoting only Google error code', async () => {
    const { codeChallenge } = await oauth.createCodeVerifier()
    const other = await oauth.createCodeVerifier()
    const url = oauth.authorizationUrl({ state: 's', codeChallenge })
    const code = new URL(
      await server.emulator.control.approveConsent(url, 'ann@example.com'),
    ).searchParams.get('code')
    const failure = await oauth
      .exchangeCode({ code: code ?? '', codeVerifier: other.codeVerifier })
      .catch((e) => e)
    expect(failure).toMatchObject({
      code: 'OAUTH_EXCHANGE_FAILED',
      retryable: false,
      message: 'Google refused the authorization code: invalid_grant',
    })
    expect(failure.message).not.toContain(other.codeVerifier)
    expect(failure.message).not.toContain('client-secret-1')
  })

  it('refuses a code used twice', async () => {
    const flow = await connect(server, oauth, 'ann@example.com')
    const again = await oauth
      .exchangeCode({ code: flow.code, codeVerifier: flow.codeVerifier })
      .catch((e) => e)
    expect(again).toMatchObject({ code: 'OAUTH_EXCHANGE_FAILED', retryable: false })
  })

  it('refuses an access token at userinfo', async () => {
    await expect(oauth.fetchAccountEmail('not-a-token')).rejects.toMatchObject({
      code: 'OAUTH_EXCHANGE_FAILED',
    })
  })

  it('refreshes an expired access token by itself and reports the new one', async () => {
    const flow = await connect(server, oauth, 'carol@example.com')
    const reported: GrantedTokens[] = []
    const client = oauth.authorizedClient(
      {
        refreshToken: flow.tokens.refreshToken ?? '',
        accessToken: flow.tokens.accessToken,
        accessTokenExpiresAt: Date.now() - 1000,
      },
      (tokens) => reported.push(tokens),
    )
    const before = server.emulator.control.stats().calls.token
    const { token } = await client.getAccessToken()
    expect(server.emulator.control.stats().calls.token).toBe(before + 1)
    expect(token).not.toBe(flow.tokens.accessToken)
    expect(reported).toHaveLength(1)
    expect(reported[0]?.accessToken).toBe(token)
    expect(reported[0]?.expiresAt).toBeGreaterThan(Date.now())
    expect(await oauth.fetchAccountEmail(token ?? '')).toBe('carol@example.com')
  })

  it('revokes a refresh token, after which a refresh is invalid_grant; revoking again is fine', async () => {
    const flow = await connect(server, oauth, 'dan@example.com')
    const refreshToken = flow.tokens.refreshToken ?? ''
    await oauth.revoke(refreshToken)
    const client = oauth.authorizedClient({ refreshToken }, () => {})
    const failure = await client.getAccessToken().catch((e) => e)
    expect(isInvalidGrant(failure)).toBe(true)
    await expect(oauth.revoke(refreshToken)).resolves.toBeUndefined()
  })

  it('retries the code exchange itself after a token endpoint 503 (the library retries token POSTs)', async () => {
    const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
    const url = oauth.authorizationUrl({ state: 's', codeChallenge })
    const code = new URL(
      await server.emulator.control.approveConsent(url, 'erin@example.com'),
    ).searchParams.get('code')
    server.emulator.control.injectFaults('token', [{ kind: 'status', status: 503 }])
    const tokens = await oauth.exchangeCode({ code: code ?? '', codeVerifier })
    expect(tokens.refreshToken).toBeTypeOf('string')
  })
})

describe('google-oauth adapter when Google rotates refresh tokens', () => {
  let server: Server
  let oauth: GoogleOAuth

  beforeAll(async () => {
    server = await startEmulator({ rotateRefreshTokens: true })
    oauth = oauthFor(server)
  })
  afterAll(async () => {
    await server.close()
  })

  it('captures the rotated refresh token and refreshes with it next time', async () => {
    const flow = await connect(server, oauth, 'fay@example.com')
    const first = flow.tokens.refreshToken ?? ''
    const reported: GrantedTokens[] = []
    const client = oauth.authorizedClient({ refreshToken: first, accessTokenExpiresAt: 1 }, (tokens) =>
      reported.push(tokens),
    )
    await client.getAccessToken()
    const second = reported[0]?.refreshToken
    expect(second).toBeTypeOf('string')
    expect(second).not.toBe(first)

    client.credentials.expiry_date = 1
    const { token } = await client.getAccessToken()
    const third = reported[1]?.refreshToken
    expect(third).toBeTypeOf('string')
    expect(third).not.toBe(second)
    expect(await oauth.fetchAccountEmail(token ?? '')).toBe('fay@example.com')

    const stale = oauth.authorizedClient({ refreshToken: first }, () => {})
    expect(isInvalidGrant(await stale.getAccessToken().catch((e) => e))).toBe(true)
  })
})

describe('google-oauth adapter and a time-limited grant (refresh_token_expires_in)', () => {
  const day = 86_400_000
  const time = { now: Date.UTC(2026, 4, 10, 9) }
  let server: Server
  let oauth: GoogleOAuth

  beforeAll(async () => {
    server = await startEmulator({ clock: { now: () => time.now }, rotateRefreshTokens: true })
    oauth = createGoogleOAuth({
      clientId: 'client-1.apps.googleusercontent.com',
      clientSecret: 'client-secret-1',
      redirectUri: REDIRECT_URI,
      ...server.endpoints,
      timeoutMs: 10_000,
      now: () => time.now,
    })
  })
  afterAll(async () => {
    await server.close()
  })

  /** Consent with time-based access for `seconds`, then the code exchange. */
  async function connectFor(email: string, seconds: number) {
    const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
    const url = oauth.authorizationUrl({ state: 's', codeChallenge, loginHint: email })
    const redirect = new URL(
      await server.emulator.control.approveConsent(url, email, { accessSeconds: seconds }),
    )
    return oauth.exchangeCode({ code: redirect.searchParams.get('code') ?? '', codeVerifier })
  }

  it("dates the refresh token's end at the code exchange, on the adapter's clock", async () => {
    const tokens = await connectFor('gus@example.com', 2 * 86_400)
    expect(tokens.refreshTokenExpiresAt).toBe(time.now + 2 * day)
  })

  it('reports the end at each refresh with the rotated token, and the end is invalid_grant', async () => {
    const start = time.now
    const tokens = await connectFor('hal@example.com', 86_400)
    const reported: GrantedTokens[] = []
    const client = oauth.authorizedClient(
      { refreshToken: tokens.refreshToken ?? '', accessTokenExpiresAt: 1 },
      (refreshed) => reported.push(refreshed),
    )
    time.now = start + 3_600_000
    await client.getAccessToken()
    expect(reported).toEqual([
      expect.objectContaining({ refreshToken: expect.any(String), refreshTokenExpiresAt: start + day }),
    ])

    time.now = start + day
    client.credentials.expiry_date = 1
    const failure = await client.getAccessToken().catch((error: unknown) => error)
    expect(isInvalidGrant(failure)).toBe(true)
    expect(reported).toHaveLength(1)
  })

  it('reports no end for a grant without one', async () => {
    const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
    const url = oauth.authorizationUrl({ state: 's', codeChallenge })
    const redirect = new URL(await server.emulator.control.approveConsent(url, 'ivy@example.com'))
    const tokens = await oauth.exchangeCode({ code: redirect.searchParams.get('code') ?? '', codeVerifier })
    expect(tokens.refreshToken).toBeTypeOf('string')
    expect(tokens).not.toHaveProperty('refreshTokenExpiresAt')
  })
})
