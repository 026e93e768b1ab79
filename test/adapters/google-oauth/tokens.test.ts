import { type Credentials, OAuth2Client } from 'google-auth-library'
import { describe, expect, it } from 'vitest'
import { grantedTokens, watchTokenRefreshes } from '../../../src/adapters/google-oauth/tokens.ts'
import type { GrantedTokens } from '../../../src/domain/credentials/account.ts'

/** A token endpoint that rotates the refresh token on every refresh and forgets the old one. */
function rotatingTokenEndpoint() {
  let live = 'refresh-1'
  let issued = 0
  const seen: string[] = []
  const fetchImplementation = async (_url: unknown, init?: { body?: unknown }) => {
    const form = new URLSearchParams(String(init?.body))
    const presented = form.get('refresh_token') ?? ''
    seen.push(presented)
    if (presented !== live) {
      return Response.json({ error: 'invalid_grant' }, { status: 400 })
    }
    issued += 1
    live = `refresh-${issued + 1}`
    return Response.json({
      access_token: `access-${issued}`,
      refresh_token: live,
      expires_in: 3600,
      scope: 'openid email',
    })
  }
  return { fetchImplementation, seen }
}

describe('watchTokenRefreshes', () => {
  it('keeps a rotated refresh token so that the next refresh presents it', async () => {
    const endpoint = rotatingTokenEndpoint()
    const client = new OAuth2Client({
      clientId: 'client',
      clientSecret: 'secret',
      endpoints: { oauth2TokenUrl: 'http://127.0.0.1:9/token' },
      transporterOptions: { fetchImplementation: endpoint.fetchImplementation as never },
    })
    client.setCredentials({ refresh_token: 'refresh-1', access_token: 'stale', expiry_date: 1 })
    const reported: GrantedTokens[] = []
    watchTokenRefreshes(client, (tokens) => reported.push(tokens))

    await client.getAccessToken()
    client.credentials.expiry_date = 1
    const second = await client.getAccessToken()

    expect(endpoint.seen).toEqual(['refresh-1', 'refresh-2'])
    expect(second.token).toBe('access-2')
    expect(reported.map((tokens) => tokens.refreshToken)).toEqual(['refresh-2', 'refresh-3'])
    expect(client.credentials.refresh_token).toBe('refresh-3')
    expect(reported[0]).toMatchObject({ accessToken: 'access-1', scopes: ['openid', 'email'] })
    expect(reported[0]?.expiresAt).toBeTypeOf('number')
  })

  it('reports no refresh token when Google did not rotate it', async () => {
    const client = new OAuth2Client({
      clientId: 'client',
      clientSecret: 'secret',
      endpoints: { oauth2TokenUrl: 'http://127.0.0.1:9/token' },
      transporterOptions: {
        fetchImplementation: (async () => Response.json({ access_token: 'access', expires_in: 60 })) as never,
      },
    })
    client.setCredentials({ refresh_token: 'refresh-1' })
    const reported: GrantedTokens[] = []
    watchTokenRefreshes(client, (tokens) => reported.push(tokens))
    await client.getAccessToken()
    expect(reported).toHaveLength(1)
    expect(reported[0]).not.toHaveProperty('refreshToken')
    expect(client.credentials.refresh_token).toBe('refresh-1')
  })

  it('lets the refresh succeed when onTokens throws', async () => {
    const client = new OAuth2Client({
      clientId: 'client',
      endpoints: { oauth2TokenUrl: 'http://127.0.0.1:9/token' },
      transporterOptions: {
        fetchImplementation: (async () => Response.json({ access_token: 'access', expires_in: 60 })) as never,
      },
    })
    client.setCredentials({ refresh_token: 'refresh-1' })
    watchTokenRefreshes(client, () => {
      throw new Error('store down')
    })
    await expect(client.getAccessToken()).resolves.toMatchObject({ token: 'access' })
  })
})

describe('grantedTokens', () => {
  it('splits the scope string and copies the expiry', () => {
    expect(
      grantedTokens(
        { access_token: 'a', scope: 'https://www.googleapis.com/auth/gmail.send openid', expiry_date: 5 },
        'r',
        1_000,
      ),
    ).toEqual({
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: 5,
      scopes: ['https://www.googleapis.com/auth/gmail.send', 'openid'],
    })
  })

  it('refuses an answer without an access token', () => {
    expect(() => grantedTokens({ scope: 'openid' }, undefined, 1_000)).toThrow(
      expect.objectContaining({ code: 'OAUTH_EXCHANGE_FAILED' }),
    )
  })

  it('dates the refresh token by refresh_token_expires_in, counted from now', () => {
    const tokens = { access_token: 'a', refresh_token_expires_in: 86_400 } as Credentials
    expect(grantedTokens(tokens, 'r', 1_000)).toMatchObject({ refreshTokenExpiresAt: 1_000 + 86_400_000 })
  })

  it('ignores a refresh_token_expires_in that is not a positive whole number of seconds', () => {
    for (const value of [0, -5, 1.5, '3600', null, Number.NaN, Number.POSITIVE_INFINITY, 1e12]) {
      const tokens = { access_token: 'a', refresh_token_expires_in: value } as unknown as Credentials
      expect(grantedTokens(tokens, 'r', 1_000)).not.toHaveProperty('refreshTokenExpiresAt')
    }
  })
})

describe('watchTokenRefreshes and a time-limited grant', () => {
  it("reports the refresh token's deadline from the refresh answer, on the injected clock", async () => {
    const client = new OAuth2Client({
      clientId: 'client',
      clientSecret: 'secret',
      endpoints: { oauth2TokenUrl: 'http://127.0.0.1:9/token' },
      transporterOptions: {
        fetchImplementation: (async () =>
          Response.json({
            access_token: 'access',
            expires_in: 60,
            refresh_token_expires_in: 3_600,
          })) as never,
      },
    })
    client.setCredentials({ refresh_token: 'refresh-1' })
    const reported: GrantedTokens[] = []
    watchTokenRefreshes(
      client,
      (tokens) => reported.push(tokens),
      () => 50_000,
    )
    await client.getAccessToken()
    expect(reported).toEqual([expect.objectContaining({ refreshTokenExpiresAt: 50_000 + 3_600_000 })])
    expect(reported[0]).not.toHaveProperty('refreshToken')
  })
})
