import { afterEach, expect, test } from 'vitest'
import { createGoogleEmulator } from '../../src/emulator/emulator.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { connectAccount, oauthClient } from './oauth-fixtures.ts'

let running: RunningEmulator[] = []
afterEach(async () => {
  await Promise.all(running.map((emulator) => emulator.close()))
  running = []
})

test('exported grants keep an account connected in a new emulator', async () => {
  const before = await startEmulator()
  running.push(before)
  const tokens = await connectAccount(oauthClient(before), 'ann@example.com')
  const exported = JSON.parse(JSON.stringify(before.emulator.control.exportGrants()))

  const after = await startEmulator()
  running.push(after)
  after.emulator.control.importGrants(exported)
  const userinfo = await fetch(after.endpoints.userinfoUrl, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  })
  expect(await userinfo.json()).toMatchObject({ email: 'ann@example.com' })
  const refresh = await fetch(after.endpoints.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token!,
      client_id: 'client-1',
    }),
  })
  expect(refresh.status).toBe(200)
  // The consent came along: a later authorization without prompt=consent gives no new refresh token.
  expect((await connectAccount(oauthClient(after), 'ann@example.com')).refresh_token).toBeUndefined()
})

test('importing malformed grants throws and names the field', () => {
  const { control } = createGoogleEmulator()
  expect(() => control.importGrants({ format: 'something-else' })).toThrow(/format/)
  expect(() =>
    control.importGrants({
      format: 'google-emulator-grants/1',
      consents: [],
      refreshTokens: [{ token: 't', clientId: 'c', email: 'not an email', scopes: [], issuedAt: 0 }],
      accessTokens: [],
    }),
  ).toThrow(/refreshTokens\.0\.email/)
})
