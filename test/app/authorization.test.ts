import { describe, expect, it } from 'vitest'
import { createAccountService } from '../../src/app/accounts.ts'
import { createAuthorization, STATE_LIFETIME_MS } from '../../src/app/authorization.ts'
import { silentLogger } from '../../src/app/logger.ts'
import { memoryAuthorizationStates } from '../../src/app/memory-authorization-states.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import { manualTime } from '../fakes/clock.ts'
import { fakeOAuth, SEND_SCOPES } from '../fakes/oauth.ts'
import { memoryAccounts } from '../fakes/repositories.ts'

function setup() {
  const time = manualTime()
  const oauth = fakeOAuth()
  const repo = memoryAccounts()
  const events: string[] = []
  const accounts = createAccountService({
    accounts: repo,
    oauth,
    clock: time,
    logger: silentLogger,
    listener: {
      connected: (email) => events.push(`connected:${email}`),
      reauthorizationRequired: (email) => events.push(`reauth:${email}`),
      disconnected: (email) => events.push(`disconnected:${email}`),
    },
  })
  let counter = 0
  const authorization = createAuthorization({
    oauth,
    accounts,
    clock: time,
    logger: silentLogger,
    states: memoryAuthorizationStates(),
    newState: () => `state-${++counter}`,
    onConnected: async () => 3,
  })
  return { time, oauth, repo, accounts, authorization, events }
}

/** The browser comes back from Google with the state it was given and its cookie. */
const callback = (s: ReturnType<typeof setup>, state: string, query: { code?: string; error?: string }) =>
  s.authorization.complete({ state, cookieState: state, ...query })

describe('authorization', () => {
  it('connects an account: the code is exchanged with its own PKCE verifier and the tokens stored', async () => {
    const s = setup()
    const started = await s.authorization.start({ loginHint: 'support@example.com' })
    expect(started.url).toContain('login_hint=support%40example.com')
    const result = await callback(s, started.state, { code: 'code-1' })
    expect(result).toEqual({
      kind: 'connected',
      email: 'support@example.com',
      reconnected: false,
      released: 3,
    })
    expect(s.oauth.exchanges).toEqual([{ code: 'code-1', codeVerifier: 'verifier-1' }])
    expect(await s.repo.get('support@example.com')).toMatchObject({
      refreshToken: 'rt-1',
      status: 'connected',
      isDefault: true,
    })
  })

  it('refuses a state that does not match the browser cookie', async () => {
    const s = setup()
    const started = await s.authorization.start({})
    const result = await s.authorization.complete({ state: started.state, cookieState: 'other', code: 'c' })
    expect(result).toMatchObject({ kind: 'failed', code: 'OAUTH_STATE_INVALID' })
    expect(s.oauth.exchanges).toHaveLength(0)
  })

  it('refuses a replayed state', async () => {
    const s = setup()
    const started = await s.authorization.start({})
    await callback(s, started.state, { code: 'c' })
    const again = await callback(s, started.state, { code: 'c' })
    expect(again).toMatchObject({ kind: 'failed', code: 'OAUTH_STATE_INVALID' })
    expect(s.oauth.exchanges).toHaveLength(1)
  })

  it('refuses a state older than 10 minutes', async () => {
    const s = setup()
    const started = await s.authorization.start({})
    s.time.set(s.time.now() + STATE_LIFETIME_MS + 1)
    const result = await callback(s, started.state, { code: 'c' })
    expect(result).toMatchObject({ kind: 'failed', code: 'OAUTH_STATE_INVALID' })
  })

  it('refuses a forged state never issued', async () => {
    const s = setup()
    const result = await s.authorization.complete({ state: 'forged', cookieState: 'forged', code: 'c' })
    expect(result).toMatchObject({ kind: 'failed', code: 'OAUTH_STATE_INVALID' })
  })

  it('reports access_denied plainly and changes nothing', async () => {
    const s = setup()
    const started = await s.authorization.start({})
    const result = await callback(s, started.state, { error: 'access_denied' })
    expect(result).toMatchObject({ kind: 'failed', code: 'OAUTH_DENIED' })
    expect(await s.repo.list()).toEqual([])
  })

  it('keeps stored credentials unchanged when the code exchange fails, and offers the login again', async () => {
    const s = setup()
    const first = await s.authorization.start({})
    await callback(s, first.state, { code: 'ok' })
    const before = await s.repo.get('support@example.com')
    s.oauth.nextGrant = new ServiceError(
      'OAUTH_EXCHANGE_FAILED',
      'Google refused the authorization code: invalid_grant',
    )
    const second = await s.authorization.start({ loginHint: 'support@example.com' })
    const result = await callback(s, second.state, { code: 'bad' })
    expect(result).toMatchObject({
      kind: 'failed',
      code: 'OAUTH_EXCHANGE_FAILED',
      loginHint: 'support@example.com',
    })
    expect(await s.repo.get('support@example.com')).toEqual(before)
  })

  it('sends the admin back with consent forced when Google returns no refresh token and none is stored', async () => {
    const s = setup()
    s.oauth.nextGrant = { accessToken: 'at', scopes: SEND_SCOPES }
    const started = await s.authorization.start({})
    const result = await callback(s, started.state, { code: 'c' })
    expect(result.kind).toBe('consent_required')
    if (result.kind !== 'consent_required') return
    expect(result.url).toContain('prompt=consent')
    expect(result.url).toContain('login_hint=support%40example.com')
    expect(await s.repo.list()).toEqual([])
    // The new state works for the next callback.
    s.oauth.nextGrant = { accessToken: 'at2', refreshToken: 'rt-2', scopes: SEND_SCOPES }
    const done = await callback(s, result.state, { code: 'c2' })
    expect(done.kind).toBe('connected')
  })

  it('uses the stored refresh token when Google sends none on a reauthorization', async () => {
    const s = setup()
    const first = await s.authorization.start({})
    await callback(s, first.state, { code: 'c' })
    s.oauth.nextGrant = { accessToken: 'at-fresh', scopes: SEND_SCOPES }
    const second = await s.authorization.start({})
    const result = await callback(s, second.state, { code: 'c' })
    expect(result.kind).toBe('connected')
    expect(await s.repo.get('support@example.com')).toMatchObject({
      refreshToken: 'rt-1',
      accessToken: 'at-fresh',
    })
  })
})

describe('account service', () => {
  it('marks an account as needing reauthorization once and tells the listener', async () => {
    const s = setup()
    const started = await s.authorization.start({})
    await callback(s, started.state, { code: 'c' })
    await Promise.all([
      s.accounts.markReauthorizationRequired('support@example.com'),
      s.accounts.markReauthorizationRequired('support@example.com'),
    ])
    expect(s.events).toEqual(['reauth:support@example.com'])
    expect((await s.repo.get('support@example.com'))?.status).toBe('reauthorization_required')
  })

  it('disconnects: revokes at Google, forgets the tokens, keeps the account', async () => {
    const s = setup()
    const started = await s.authorization.start({})
    await callback(s, started.state, { code: 'c' })
    await s.accounts.disconnect('support@example.com')
    expect(s.oauth.revoked).toEqual(['rt-1'])
    const stored = await s.repo.get('support@example.com')
    expect(stored).toMatchObject({ status: 'revoked' })
    expect(stored?.refreshToken).toBeUndefined()
  })

  it('refuses a sender that is not a connected account', async () => {
    const s = setup()
    await expect(s.accounts.resolveSender('nobody@example.com')).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_CONNECTED',
    })
    await expect(s.accounts.resolveSender(undefined)).rejects.toMatchObject({ code: 'ACCOUNT_NOT_CONNECTED' })
  })

  it('resolves a named sender in any case, and refuses it once disconnected', async () => {
    const s = setup()
    const started = await s.authorization.start({})
    await callback(s, started.state, { code: 'c' })
    expect((await s.accounts.resolveSender('Support@Example.com')).email).toBe('support@example.com')
    await s.accounts.disconnect('support@example.com')
    await expect(s.accounts.resolveSender('support@example.com')).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_CONNECTED',
      message: 'The sender "support@example.com" is not a connected account',
    })
  })
})
