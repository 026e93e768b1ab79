/**
 * One token refresh per expiry for the fleet: three replicas (three pools
 * on one database, each with its own accounts, credential sessions and
 * Google client, wired as `src/main/composition.ts` wires them) ask at
 * once for the token of an account whose access token expired; the
 * project's Google emulator counts the token requests it gets.
 */
import type pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { gmailServiceError } from '../../../src/adapters/gmail/errors.ts'
import { createGmailTransport } from '../../../src/adapters/gmail/transport.ts'
import { createGoogleOAuth, type GoogleOAuth } from '../../../src/adapters/google-oauth/oauth.ts'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { postgresAccounts } from '../../../src/adapters/postgres/account-repository.ts'
import { connectPostgres } from '../../../src/adapters/postgres/connect.ts'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { postgresRefreshCoordinator } from '../../../src/adapters/postgres/refresh-coordinator.ts'
import { createAccountService } from '../../../src/app/accounts.ts'
import { createCredentialSessions } from '../../../src/app/credential-sessions.ts'
import { silentLogger } from '../../../src/app/logger.ts'
import { type RunningEmulator, startEmulator } from '../../support/emulator-server.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'

const EMAIL = 'fleet@example.com'
const clock = { now: () => Date.now() }
const cipher = createTokenCipher([new Uint8Array(32).fill(5)])

function oauthFor(server: RunningEmulator): GoogleOAuth {
  return createGoogleOAuth({
    clientId: 'client-1.apps.googleusercontent.com',
    clientSecret: 'client-secret-1',
    redirectUri: 'http://localhost:3000/oauth/callback',
    ...server.endpoints,
    timeoutMs: 10_000,
  })
}

/** One replica's credential path, as the composition root builds it. */
function replica(server: RunningEmulator, pool: pg.Pool, lockPool: pg.Pool) {
  const oauth = oauthFor(server)
  const accounts = createAccountService({
    accounts: postgresAccounts(pool, cipher),
    oauth,
    clock,
    logger: silentLogger,
    listener: { connected() {}, reauthorizationRequired() {}, disconnected() {} },
  })
  const sessions = createCredentialSessions({
    getAccount: (email) => accounts.get(email),
    createClient: (credentials, onTokens) => oauth.authorizedClient(credentials, onTokens),
    refresh: (client) =>
      client.getAccessToken().then(
        () => undefined,
        (error: unknown) => Promise.reject(gmailServiceError(error, { stage: 'token', now: clock.now() })),
      ),
    onTokens: (email, tokens) => accounts.recordTokens(email, tokens),
    clock,
    coordinator: postgresRefreshCoordinator(lockPool),
  })
  const gmail = createGmailTransport({
    rootUrl: server.endpoints.gmailApiUrl,
    authFor: (email) => sessions.clientFor(email),
  })
  return { oauth, sessions, gmail }
}

describePostgres('token refreshes across three replicas on one database', () => {
  const db = useTestDatabase()
  const pools: pg.Pool[] = []
  let server: RunningEmulator
  let replicas: Array<ReturnType<typeof replica>>

  beforeAll(async () => {
    await migrate(db.pool)
    server = await startEmulator()
    for (let i = 0; i < 6; i++) pools.push(await connectPostgres(db.url, { max: 2 }))
    replicas = [0, 2, 4].map((i) => replica(server, pools[i]!, pools[i + 1]!))
  })
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()))
    await server?.close()
  })

  it('asks Google once for an expired token, and all three use the one it gave', async () => {
    // Connect the account once (consent, code exchange), then let its access token expire.
    const oauth = replicas[0]!.oauth
    const { codeVerifier, codeChallenge } = await oauth.createCodeVerifier()
    const url = oauth.authorizationUrl({ state: 'state-1', codeChallenge, loginHint: EMAIL })
    const code = new URL(await server.emulator.control.approveConsent(url, EMAIL)).searchParams.get('code')
    const granted = await oauth.exchangeCode({ code: code ?? '', codeVerifier })
    await postgresAccounts(db.pool, cipher).save({
      email: EMAIL,
      status: 'connected',
      scopes: granted.scopes,
      isDefault: true,
      connectedAt: clock.now(),
      refreshToken: granted.refreshToken ?? '',
      accessToken: granted.accessToken,
      accessTokenExpiresAt: clock.now() - 1_000,
    })
    server.emulator.control.expireAccessTokens()
    // A slow token endpoint: the other replicas ask while the first one waits for Google.
    server.emulator.control.injectFaults('token', [{ kind: 'delay', ms: 300 }])
    const before = server.emulator.control.stats().calls.token

    const tokens = await Promise.all(
      replicas.map(async ({ sessions }) => (await (await sessions.clientFor(EMAIL)).getAccessToken()).token),
    )

    expect(server.emulator.control.stats().calls.token - before).toBe(1)
    expect(new Set(tokens).size).toBe(1)
    expect(tokens[0]).not.toBe(granted.accessToken)
    expect(await oauth.fetchAccountEmail(tokens[0] ?? '')).toBe(EMAIL)
    // Stored sealed for the fleet, with its expiry.
    const { rows } = await db.pool.query(
      `SELECT sealed_access_token, access_token_expires_at > now() AS fresh FROM accounts WHERE email = $1`,
      [EMAIL],
    )
    expect(rows[0].fresh).toBe(true)
    expect(rows[0].sealed_access_token).not.toContain(tokens[0])

    // Each replica sends with it, and none asks Google for another.
    const raw = new TextEncoder().encode(
      `From: ${EMAIL}\r\nTo: bob@example.com\r\nSubject: hello\r\n\r\nOne token for the fleet.\r\n`,
    )
    for (const { gmail } of replicas) await gmail.send({ account: EMAIL, raw })
    expect(server.emulator.control.mailbox().filter((message) => message.account === EMAIL)).toHaveLength(3)
    expect(server.emulator.control.stats().calls.token - before).toBe(1)
  })

  it('tells every replica REAUTHORIZATION_REQUIRED once Google refuses the refresh token', async () => {
    server.emulator.control.revokeAccount(EMAIL)
    await db.pool.query(`UPDATE accounts SET access_token_expires_at = now() - interval '1 minute'`)
    for (const { sessions } of replicas) sessions.forget(EMAIL)
    const failures = await Promise.all(
      replicas.map(({ sessions }) => sessions.clientFor(EMAIL).catch((error: unknown) => error)),
    )
    for (const failure of failures) expect(failure).toMatchObject({ code: 'REAUTHORIZATION_REQUIRED' })
  })
})
