import type { GaxiosError } from 'gaxios'
import { afterEach, describe, expect, test } from 'vitest'
import type { GoogleEmulatorOptions } from '../../src/emulator/emulator.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { answerConsent, authorizationUrl, connectAccount, oauthClient } from './oauth-fixtures.ts'

let running: RunningEmulator | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

async function start(options?: GoogleEmulatorOptions): Promise<RunningEmulator> {
  running = await startEmulator(options)
  return running
}

/** The OAuth error body of a failed library call. */
function oauthErrorOf(error: unknown): unknown {
  return (error as GaxiosError).response?.data
}

async function postToken(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields) })
}

describe('the authorization-code exchange', () => {
  test('gives access, refresh and ID tokens on the first consent of an account', async () => {
    const emulator = await start()
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com')
    expect(tokens.access_token).toMatch(/^ya29\./)
    expect(tokens.refresh_token).toBeTruthy()
    expect(tokens.token_type).toBe('Bearer')
    expect(tokens.scope?.split(' ')).toContain('https://www.googleapis.com/auth/gmail.send')
    const claims = JSON.parse(Buffer.from(tokens.id_token!.split('.')[1]!, 'base64url').toString())
    expect(claims).toMatchObject({ email: 'ann@example.com', email_verified: true, aud: 'client-1' })
  })

  test('gives no refresh token on a later consent unless consent is forced', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    await connectAccount(client, 'ann@example.com')
    const again = await connectAccount(client, 'ann@example.com')
    expect(again.access_token).toBeTruthy()
    expect(again.refresh_token).toBeUndefined()
    const forced = await connectAccount(client, 'ann@example.com', { prompt: 'consent' })
    expect(forced.refresh_token).toBeTruthy()
  })

  test('gives no refresh token for online access', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const { url, codeVerifier } = await authorizationUrl(client, { accessType: 'online', prompt: 'consent' })
    const code = (await answerConsent(url, 'ann@example.com', 'allow')).searchParams.get('code')!
    const { tokens } = await client.getToken({ code, codeVerifier })
    expect(tokens.refresh_token).toBeUndefined()
  })

  test('refuses a wrong PKCE verifier', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const { url } = await authorizationUrl(client)
    const code = (await answerConsent(url, 'ann@example.com', 'allow')).searchParams.get('code')!
    const other = await client.generateCodeVerifierAsync()
    const error = await client.getToken({ code, codeVerifier: other.codeVerifier }).catch((e: unknown) => e)
    expect(oauthErrorOf(error)).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier.',
    })
  })

  test('accepts a code only once', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const { url, codeVerifier } = await authorizationUrl(client)
    const code = (await answerConsent(url, 'ann@example.com', 'allow')).searchParams.get('code')!
    await client.getToken({ code, codeVerifier })
    const error = await client.getToken({ code, codeVerifier }).catch((e: unknown) => e)
    expect(oauthErrorOf(error)).toEqual({ error: 'invalid_grant', error_description: 'Bad Request' })
  })

  test('refuses a code after its ten minutes', async () => {
    let now = 1_700_000_000_000
    const emulator = await start({ clock: { now: () => now } })
    const client = oauthClient(emulator)
    const { url, codeVerifier } = await authorizationUrl(client)
    const code = (await answerConsent(url, 'ann@example.com', 'allow')).searchParams.get('code')!
    now += 10 * 60 * 1000
    const error = await client.getToken({ code, codeVerifier }).catch((e: unknown) => e)
    expect(oauthErrorOf(error)).toMatchObject({ error: 'invalid_grant' })
  })

  test('refuses a redirect URI other than the authorization request’s', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const { url, codeVerifier } = await authorizationUrl(client)
    const code = (await answerConsent(url, 'ann@example.com', 'allow')).searchParams.get('code')!
    const response = await postToken(emulator.endpoints.tokenUrl, {
      grant_type: 'authorization_code',
      code,
      code_verifier: codeVerifier,
      redirect_uri: 'http://127.0.0.1:9/other',
      client_id: 'client-1',
      client_secret: 'secret-1',
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'redirect_uri_mismatch' })
  })

  test('refuses a wrong client secret with 401 invalid_client, in the body or as HTTP Basic', async () => {
    const emulator = await start({ clients: [{ clientId: 'client-1', clientSecret: 'secret-1' }] })
    const inBody = await postToken(emulator.endpoints.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: 'x',
      client_id: 'client-1',
      client_secret: 'wrong',
    })
    expect(inBody.status).toBe(401)
    expect(await inBody.json()).toMatchObject({ error: 'invalid_client' })
    const basic = await fetch(emulator.endpoints.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('client-1:wrong')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    })
    expect(basic.status).toBe(401)
    const good = await fetch(emulator.endpoints.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('client-1:secret-1')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    })
    expect(await good.json()).toMatchObject({ error: 'invalid_grant' })
  })
})

describe('the refresh grant', () => {
  test('gives a fresh access token that works', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const first = await connectAccount(client, 'ann@example.com')
    client.setCredentials({ refresh_token: first.refresh_token! })
    const { token } = await client.getAccessToken()
    expect(token).toBeTruthy()
    expect(token).not.toBe(first.access_token)
    const userinfo = await fetch(emulator.endpoints.userinfoUrl, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(await userinfo.json()).toMatchObject({ email: 'ann@example.com', email_verified: true })
  })

  test('rotates the refresh token when asked to, and the old one stops working', async () => {
    const emulator = await start({ rotateRefreshTokens: true })
    const client = oauthClient(emulator)
    const first = await connectAccount(client, 'ann@example.com')
    const seen: string[] = []
    client.on('tokens', (tokens) => {
      if (tokens.refresh_token) seen.push(tokens.refresh_token)
    })
    client.setCredentials({ refresh_token: first.refresh_token! })
    await client.getAccessToken()
    expect(seen).toHaveLength(1)
    expect(seen[0]).not.toBe(first.refresh_token)
    const stale = await postToken(emulator.endpoints.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token!,
      client_id: 'client-1',
    })
    expect(await stale.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    })
  })

  test('refuses a revoked refresh token with invalid_grant', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const tokens = await connectAccount(client, 'ann@example.com')
    await client.revokeToken(tokens.refresh_token!)
    client.setCredentials({ refresh_token: tokens.refresh_token! })
    const error = await client.getAccessToken().catch((e: unknown) => e)
    expect(oauthErrorOf(error)).toEqual({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    })
  })

  test('refuses the refresh token of another client', async () => {
    const emulator = await start()
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com')
    const response = await postToken(emulator.endpoints.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
      client_id: 'client-2',
    })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ error: 'unauthorized_client' })
  })
})

describe('revocation and account death', () => {
  test('revoking a refresh token kills its access tokens and the consent', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const tokens = await connectAccount(client, 'ann@example.com')
    const revoke = await fetch(
      `${emulator.endpoints.revokeUrl}?token=${encodeURIComponent(tokens.refresh_token!)}`,
      {
        method: 'POST',
      },
    )
    expect(revoke.status).toBe(200)
    const userinfo = await fetch(emulator.endpoints.userinfoUrl, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(userinfo.status).toBe(401)
    // The grant is gone: the next consent is a first consent again, with a refresh token.
    expect((await connectAccount(client, 'ann@example.com')).refresh_token).toBeTruthy()
  })

  test('revoking a token in the form body works; an unknown token is invalid_token', async () => {
    const emulator = await start()
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com')
    const form = await fetch(emulator.endpoints.revokeUrl, {
      method: 'POST',
      body: new URLSearchParams({ token: tokens.access_token! }),
    })
    expect(form.status).toBe(200)
    const again = await fetch(emulator.endpoints.revokeUrl, {
      method: 'POST',
      body: new URLSearchParams({ token: tokens.access_token! }),
    })
    expect(again.status).toBe(400)
    expect(await again.json()).toMatchObject({ error: 'invalid_token' })
  })

  test('revokeAccount kills refresh and access tokens of that account only', async () => {
    const emulator = await start()
    const client = oauthClient(emulator)
    const ann = await connectAccount(client, 'ann@example.com')
    const bob = await connectAccount(client, 'bob@example.com')
    emulator.emulator.control.revokeAccount('Ann@Example.com')
    const refresh = await postToken(emulator.endpoints.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: ann.refresh_token!,
      client_id: 'client-1',
    })
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' })
    const annInfo = await fetch(emulator.endpoints.userinfoUrl, {
      headers: { authorization: `Bearer ${ann.access_token}` },
    })
    expect(annInfo.status).toBe(401)
    const bobInfo = await fetch(emulator.endpoints.userinfoUrl, {
      headers: { authorization: `Bearer ${bob.access_token}` },
    })
    expect(bobInfo.status).toBe(200)
  })

  test('expireAccessTokens ends access tokens while refresh keeps working', async () => {
    const emulator = await start()
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com')
    emulator.emulator.control.expireAccessTokens()
    const info = await fetch(emulator.endpoints.userinfoUrl, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    expect(info.status).toBe(401)
    const refresh = await postToken(emulator.endpoints.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
      client_id: 'client-1',
    })
    expect(refresh.status).toBe(200)
  })

  test('an access token dies after its lifetime on the injected clock', async () => {
    let now = 1_700_000_000_000
    const emulator = await start({ clock: { now: () => now }, accessTokenTtlSeconds: 60 })
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com')
    const userinfo = () =>
      fetch(emulator.endpoints.userinfoUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect((await userinfo()).status).toBe(200)
    now += 60_000
    expect((await userinfo()).status).toBe(401)
  })
})

describe('userinfo', () => {
  test('names the account behind the access token', async () => {
    const emulator = await start()
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com')
    const response = await fetch(emulator.endpoints.userinfoUrl, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    })
    const body = await response.json()
    expect(body).toMatchObject({ email: 'ann@example.com', email_verified: true })
    expect(body.sub).toMatch(/^\d{21}$/)
  })

  test('answers 401 without a token or with an unknown one', async () => {
    const emulator = await start()
    expect((await fetch(emulator.endpoints.userinfoUrl)).status).toBe(401)
    const unknown = await fetch(emulator.endpoints.userinfoUrl, {
      headers: { authorization: 'Bearer ya29.nope' },
    })
    expect(unknown.status).toBe(401)
  })
})
