/**
 * Refresh tokens that die on time, on the emulator's injected clock: an app
 * in Testing (7 days, said nowhere) and time-based access (told as
 * `refresh_token_expires_in`), through the real library over loopback.
 */
import type { GaxiosError } from 'gaxios'
import { afterEach, describe, expect, test } from 'vitest'
import { type GoogleEmulatorOptions, TESTING_APP_LIFETIME } from '../../src/emulator/emulator.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { answerConsent, authorizationUrl, connectAccount, oauthClient } from './oauth-fixtures.ts'

const day = 86_400_000
const EXPIRED = { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }

const running: RunningEmulator[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()))
})

/** The emulator on a clock the test sets. */
async function start(options: GoogleEmulatorOptions = {}) {
  const time = { now: Date.UTC(2026, 4, 10, 9) }
  const emulator = await startEmulator({ clock: { now: () => time.now }, ...options })
  running.push(emulator)
  return { emulator, time }
}

/** Google's raw answer to a refresh with `refreshToken`. */
async function refresh(emulator: RunningEmulator, refreshToken: string) {
  const response = await fetch(emulator.endpoints.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: 'client-1',
    }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** Consent through the page, choosing how long the access lasts; the tokens of the exchange. */
async function connectFor(emulator: RunningEmulator, accessDuration: string) {
  const client = oauthClient(emulator)
  const { url, codeVerifier } = await authorizationUrl(client, { prompt: 'consent' })
  const redirect = await answerConsent(url, 'ann@example.com', 'allow', { access_duration: accessDuration })
  const { tokens } = await client.getToken({ code: redirect.searchParams.get('code')!, codeVerifier })
  return tokens as typeof tokens & { refresh_token_expires_in?: number }
}

describe('an app in Testing', () => {
  test('ends refresh tokens 7 days after consent, saying nothing of it beforehand', async () => {
    const { emulator, time } = await start({ refreshTokenLifetime: TESTING_APP_LIFETIME })
    const issuedAt = time.now
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com', { prompt: 'consent' })
    expect(tokens).not.toHaveProperty('refresh_token_expires_in')

    time.now = issuedAt + 7 * day - 1_000
    const late = await refresh(emulator, tokens.refresh_token!)
    expect(late.status).toBe(200)
    expect(late.body).not.toHaveProperty('refresh_token_expires_in')

    time.now = issuedAt + 7 * day
    expect(await refresh(emulator, tokens.refresh_token!)).toEqual({ status: 400, body: EXPIRED })
  })

  test('gives a new consent a new 7 days, and the library sees the dead token as invalid_grant', async () => {
    const { emulator, time } = await start({ refreshTokenLifetime: TESTING_APP_LIFETIME })
    const client = oauthClient(emulator)
    const first = await connectAccount(client, 'ann@example.com', { prompt: 'consent' })
    time.now += 5 * day
    const second = await connectAccount(client, 'ann@example.com', { prompt: 'consent' })
    time.now += 3 * day
    client.setCredentials({ refresh_token: first.refresh_token! })
    const failure = await client.getAccessToken().catch((error: unknown) => error)
    expect((failure as GaxiosError).response?.data).toEqual(EXPIRED)
    expect((await refresh(emulator, second.refresh_token!)).status).toBe(200)
    time.now += 4 * day
    expect((await refresh(emulator, second.refresh_token!)).body).toEqual(EXPIRED)
  })

  test('keeps the deadline through a rotation: the new token dies when the old one would have', async () => {
    const { emulator, time } = await start({
      refreshTokenLifetime: TESTING_APP_LIFETIME,
      rotateRefreshTokens: true,
    })
    const issuedAt = time.now
    const tokens = await connectAccount(oauthClient(emulator), 'ann@example.com')
    time.now += 6 * day
    const rotated = await refresh(emulator, tokens.refresh_token!)
    const fresh = String(rotated.body['refresh_token'])
    expect(fresh).not.toBe(tokens.refresh_token)
    time.now = issuedAt + 7 * day
    expect((await refresh(emulator, fresh)).body).toEqual(EXPIRED)
  })
})

describe('time-based access', () => {
  test("chosen on the consent page: the answers tell the token's remaining seconds, then it ends", async () => {
    const { emulator, time } = await start()
    const issuedAt = time.now
    const tokens = await connectFor(emulator, '86400')
    expect(tokens.refresh_token_expires_in).toBe(86_400)

    time.now = issuedAt + 3_600_000
    const later = await refresh(emulator, tokens.refresh_token!)
    expect(later.body['refresh_token_expires_in']).toBe(82_800)

    time.now = issuedAt + day
    expect(await refresh(emulator, tokens.refresh_token!)).toEqual({ status: 400, body: EXPIRED })
  })

  test('not chosen: the token lives until revoked and no answer names a lifetime', async () => {
    const { emulator, time } = await start()
    const tokens = await connectFor(emulator, '')
    expect(tokens).not.toHaveProperty('refresh_token_expires_in')
    time.now += 400 * day
    const answer = await refresh(emulator, tokens.refresh_token!)
    expect(answer.status).toBe(200)
    expect(answer.body).not.toHaveProperty('refresh_token_expires_in')
  })

  test('the consent page refuses a duration it does not offer, and changes nothing', async () => {
    const { emulator } = await start()
    const { url } = await authorizationUrl(oauthClient(emulator))
    const failure = await answerConsent(url, 'ann@example.com', 'allow', { access_duration: '5' }).catch(
      (error: Error) => error,
    )
    expect(String(failure)).toContain('Consent answered 400')
    expect(String(failure)).toContain('Choose how long the access lasts.')
  })

  test('wins over the app setting, through approveConsent', async () => {
    const { emulator, time } = await start({ refreshTokenLifetime: TESTING_APP_LIFETIME })
    const client = oauthClient(emulator)
    const { url, codeVerifier } = await authorizationUrl(client)
    const redirect = new URL(
      await emulator.emulator.control.approveConsent(url, 'ann@example.com', { accessSeconds: 3_600 }),
    )
    const { tokens } = await client.getToken({ code: redirect.searchParams.get('code')!, codeVerifier })
    expect((tokens as { refresh_token_expires_in?: number }).refresh_token_expires_in).toBe(3_600)
    time.now += 3_600_000
    expect((await refresh(emulator, tokens.refresh_token!)).body).toEqual(EXPIRED)
    await expect(
      emulator.emulator.control.approveConsent(url, 'ann@example.com', { accessSeconds: 0 }),
    ).rejects.toThrow('Time-based access must be a whole number of seconds')
  })
})

describe('the lifetime switch of the control API and the grants export', () => {
  test('POST /_control/refresh-token-lifetime sets the lifetime of later consents, null ends it', async () => {
    const { emulator, time } = await start()
    const set = (body: unknown) =>
      fetch(`${emulator.baseUrl}/_control/refresh-token-lifetime`, {
        method: 'POST',
        body: JSON.stringify(body),
      })
    const before = await connectAccount(oauthClient(emulator), 'ann@example.com', { prompt: 'consent' })
    expect((await set({ seconds: 60, announced: true })).status).toBe(204)
    const limited = await connectAccount(oauthClient(emulator), 'ann@example.com', { prompt: 'consent' })
    expect((limited as { refresh_token_expires_in?: number }).refresh_token_expires_in).toBe(60)
    expect((await set({ seconds: null })).status).toBe(204)
    const after = await connectAccount(oauthClient(emulator), 'ann@example.com', { prompt: 'consent' })
    expect(after).not.toHaveProperty('refresh_token_expires_in')

    time.now += 60_000
    expect((await refresh(emulator, limited.refresh_token!)).body).toEqual(EXPIRED)
    expect((await refresh(emulator, before.refresh_token!)).status).toBe(200)
    expect((await refresh(emulator, after.refresh_token!)).status).toBe(200)

    const refused = await set({ seconds: -1 })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ error: expect.stringContaining('seconds') })
  })

  test('an export keeps live deadlines (a sandbox restart) and drops tokens already dead', async () => {
    const { emulator, time } = await start({ refreshTokenLifetime: TESTING_APP_LIFETIME })
    const client = oauthClient(emulator)
    const first = await connectAccount(client, 'ann@example.com', { prompt: 'consent' })
    time.now += 6 * day
    const second = await connectAccount(client, 'ann@example.com', { prompt: 'consent' })
    time.now += 2 * day
    const exported = emulator.emulator.control.exportGrants() as { refreshTokens: Array<{ token: string }> }
    expect(exported.refreshTokens.map((grant) => grant.token)).toEqual([second.refresh_token])

    const { emulator: restarted } = await start()
    restarted.emulator.control.importGrants(JSON.parse(JSON.stringify(exported)))
    expect((await refresh(restarted, second.refresh_token!)).status).toBe(200)
    expect((await refresh(restarted, first.refresh_token!)).body).toEqual(EXPIRED)
  })
})
