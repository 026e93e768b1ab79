import { describe, expect, it } from 'vitest'
import { createGoogleOAuth } from '../../../src/adapters/google-oauth/oauth.ts'

const oauth = createGoogleOAuth({
  clientId: 'client-123.apps.googleusercontent.com',
  clientSecret: 'never-shown',
  redirectUri: 'http://localhost:3000/oauth/callback',
  authUrl: 'http://127.0.0.1:9/o/oauth2/v2/auth',
  tokenUrl: 'http://127.0.0.1:9/token',
  revokeUrl: 'http://127.0.0.1:9/revoke',
  userinfoUrl: 'http://127.0.0.1:9/v1/userinfo',
})

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)))
  return Buffer.from(digest).toString('base64url')
}

describe('createGoogleOAuth', () => {
  it('creates a PKCE verifier whose challenge is its S256 digest (RFC 7636)', async () => {
    const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
    expect(codeVerifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/)
    expect(codeChallenge).toBe(await s256(codeVerifier))
    expect((await oauth.createCodeVerifier()).codeVerifier).not.toBe(codeVerifier)
  })

  it('builds an authorization URL asking for offline access with consent forced and PKCE', () => {
    const url = new URL(
      oauth.authorizationUrl({ state: 'st-1', codeChallenge: 'ch-1', loginHint: 'Ann@Example.com' }),
    )
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:9/o/oauth2/v2/auth')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client-123.apps.googleusercontent.com',
      redirect_uri: 'http://localhost:3000/oauth/callback',
      scope: 'https://www.googleapis.com/auth/gmail.send openid email',
      state: 'st-1',
      access_type: 'offline',
      prompt: 'consent',
      code_challenge: 'ch-1',
      code_challenge_method: 'S256',
      login_hint: 'Ann@Example.com',
    })
  })

  it('leaves login_hint out when none is given, and never puts the client secret in the URL', () => {
    const url = oauth.authorizationUrl({ state: 's', codeChallenge: 'c' })
    expect(new URL(url).searchParams.has('login_hint')).toBe(false)
    expect(url).not.toContain('never-shown')
  })

  it('gives an authorized client the stored credentials', () => {
    const client = oauth.authorizedClient(
      { refreshToken: 'r', accessToken: 'a', accessTokenExpiresAt: 1_900_000_000_000 },
      () => {},
    )
    expect(client.credentials).toEqual({
      refresh_token: 'r',
      access_token: 'a',
      expiry_date: 1_900_000_000_000,
    })
    expect(client.forceRefreshOnFailure).toBe(false) // the Gmail transport handles 401 itself
  })
})
