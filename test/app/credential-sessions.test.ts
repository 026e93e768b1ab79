/**
 * Credential sessions with a fake Google client: when a stored access
 * token is used as it is, when one refresh serves many callers, and how a
 * second session (another replica, same store) uses the token the first
 * stored instead of refreshing again.
 */
import { describe, expect, it } from 'vitest'
import { createAccountService } from '../../src/app/accounts.ts'
import {
  type CredentialSessions,
  createCredentialSessions,
  REFRESH_MARGIN_MS,
  type StoredCredentials,
} from '../../src/app/credential-sessions.ts'
import { inProcessRefreshCoordinator } from '../../src/app/in-process-refresh-coordinator.ts'
import { silentLogger } from '../../src/app/logger.ts'
import type { Account, GrantedTokens } from '../../src/domain/credentials/account.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import type { RefreshCoordinator } from '../../src/domain/ports.ts'
import { manualTime } from '../fakes/clock.ts'
import { memoryAccounts } from '../fakes/repositories.ts'

const HOUR = 3_600_000

/** A stand-in for OAuth2Client: what it was made with, and the refreshes it made. */
interface FakeClient {
  credentials: StoredCredentials
  accessToken: string | undefined
}

/** A fake Google: counts token requests and hands out numbered tokens, an hour long. */
function fakeGoogle(time: { now(): number }, options: { latencyMs?: number; refuse?: () => boolean } = {}) {
  const google = {
    tokenRequests: 0,
    async refresh(client: FakeClient & { report: (tokens: GrantedTokens) => void }) {
      google.tokenRequests++
      await new Promise((resolve) => setTimeout(resolve, options.latencyMs ?? 1))
      if (options.refuse?.()) throw new ServiceError('REAUTHORIZATION_REQUIRED', 'invalid_grant')
      const tokens = {
        accessToken: `ya29.token-${google.tokenRequests}`,
        expiresAt: time.now() + HOUR,
        scopes: [],
      }
      client.accessToken = tokens.accessToken
      client.report(tokens)
    },
  }
  return google
}

function account(overrides: Partial<Account> = {}): Account {
  return {
    email: 'ann@example.com',
    status: 'connected',
    scopes: [],
    isDefault: true,
    connectedAt: 0,
    refreshToken: '1//refresh',
    ...overrides,
  }
}

/** One replica: its own sessions and account service, over a shared store and coordinator. */
function replica(deps: {
  time: ReturnType<typeof manualTime>
  google: ReturnType<typeof fakeGoogle>
  store: ReturnType<typeof memoryAccounts>
  coordinator?: RefreshCoordinator
  storeDelayMs?: number
}) {
  const reads = { count: 0 }
  const accounts = createAccountService({
    accounts: deps.store,
    oauth: {} as never,
    clock: deps.time,
    logger: silentLogger,
    listener: { connected() {}, reauthorizationRequired() {}, disconnected() {} },
  })
  type Client = FakeClient & { report: (tokens: GrantedTokens) => void }
  const sessions: CredentialSessions<Client> = createCredentialSessions<Client>({
    getAccount: (email) => {
      reads.count++
      return accounts.get(email)
    },
    createClient: (credentials, onTokens) => ({
      credentials,
      accessToken: credentials.accessToken,
      report: onTokens,
    }),
    refresh: (client) => deps.google.refresh(client),
    onTokens: async (email, tokens) => {
      await new Promise((resolve) => setTimeout(resolve, deps.storeDelayMs ?? 0))
      await accounts.recordTokens(email, tokens)
    },
    clock: deps.time,
    ...(deps.coordinator ? { coordinator: deps.coordinator } : {}),
  })
  return { sessions, reads }
}

describe('createCredentialSessions', () => {
  it('uses a stored access token that is still fresh without asking Google', async () => {
    const time = manualTime()
    const google = fakeGoogle(time)
    const store = memoryAccounts([
      account({ accessToken: 'ya29.stored', accessTokenExpiresAt: time.now() + HOUR }),
    ])
    const { sessions } = replica({ time, google, store })
    const client = await sessions.clientFor('ann@example.com')
    expect(client.accessToken).toBe('ya29.stored')
    expect(client.credentials.accessTokenExpiresAt).toBe(time.now() + HOUR)
    expect(google.tokenRequests).toBe(0)
  })

  it('refreshes an expired token once for 50 callers at once, and stores the new token', async () => {
    const time = manualTime()
    const google = fakeGoogle(time, { latencyMs: 20 })
    const store = memoryAccounts([account({ accessToken: 'ya29.old', accessTokenExpiresAt: time.now() - 1 })])
    const { sessions } = replica({ time, google, store })
    const clients = await Promise.all(Array.from({ length: 50 }, () => sessions.clientFor('ann@example.com')))
    expect(google.tokenRequests).toBe(1)
    expect(new Set(clients).size).toBe(1)
    expect(clients[0]?.accessToken).toBe('ya29.token-1')
    // The expired token was not handed to the new client: it would have been used as it was.
    expect(clients[0]?.credentials.accessToken).toBeUndefined()
    expect((await store.get('ann@example.com'))?.accessToken).toBe('ya29.token-1')
  })

  it('replaces a token within the refresh margin, above the library’s own 5 minutes', async () => {
    expect(REFRESH_MARGIN_MS).toBeGreaterThan(5 * 60_000)
    const time = manualTime()
    const google = fakeGoogle(time)
    const expiresAt = time.now() + REFRESH_MARGIN_MS - 1
    const store = memoryAccounts([account({ accessToken: 'ya29.closing', accessTokenExpiresAt: expiresAt })])
    const { sessions } = replica({ time, google, store })
    expect((await sessions.clientFor('ann@example.com')).accessToken).toBe('ya29.token-1')
  })

  it('keeps the client while its token is fresh, then refreshes once it nears expiry', async () => {
    const time = manualTime()
    const google = fakeGoogle(time)
    const store = memoryAccounts([account()])
    const { sessions, reads } = replica({ time, google, store })
    const first = await sessions.clientFor('ann@example.com')
    time.set(time.now() + HOUR - REFRESH_MARGIN_MS - 1_000)
    expect(await sessions.clientFor('ann@example.com')).toBe(first)
    expect(reads.count).toBe(1)
    time.set(time.now() + 2_000)
    const second = await sessions.clientFor('ann@example.com')
    expect(second).not.toBe(first)
    expect(second.accessToken).toBe('ya29.token-2')
    expect(google.tokenRequests).toBe(2)
  })

  it('lets a second replica use the token the first stored, instead of asking Google again', async () => {
    const time = manualTime()
    const google = fakeGoogle(time, { latencyMs: 20 })
    const store = memoryAccounts([account({ accessToken: 'ya29.old', accessTokenExpiresAt: time.now() - 1 })])
    const coordinator = inProcessRefreshCoordinator()
    // The store is slow: the second replica must still read only after the token is stored.
    const replicas = [1, 2, 3].map(() => replica({ time, google, store, coordinator, storeDelayMs: 15 }))
    const clients = await Promise.all(replicas.map(({ sessions }) => sessions.clientFor('ann@example.com')))
    expect(google.tokenRequests).toBe(1)
    expect(clients.map((client) => client.accessToken)).toEqual([
      'ya29.token-1',
      'ya29.token-1',
      'ya29.token-1',
    ])
    // The others' clients carry the stored token and its expiry, so that they do not refresh it themselves.
    expect(clients[1]?.credentials).toEqual({
      refreshToken: '1//refresh',
      accessToken: 'ya29.token-1',
      accessTokenExpiresAt: time.now() + HOUR,
    })
  })

  it('does not keep a failed refresh: the next call tries again', async () => {
    const time = manualTime()
    let refuse = true
    const google = fakeGoogle(time, { refuse: () => refuse })
    const { sessions } = replica({ time, google, store: memoryAccounts([account()]) })
    await expect(sessions.clientFor('ann@example.com')).rejects.toMatchObject({
      code: 'REAUTHORIZATION_REQUIRED',
    })
    refuse = false
    expect((await sessions.clientFor('ann@example.com')).accessToken).toBe('ya29.token-2')
  })

  it('refuses an account that cannot send, saying why', async () => {
    const time = manualTime()
    const store = memoryAccounts([
      account({ email: 'held@example.com', status: 'reauthorization_required' }),
      account({ email: 'gone@example.com', status: 'revoked', isDefault: false }),
    ])
    const { sessions } = replica({ time, google: fakeGoogle(time), store })
    await expect(sessions.clientFor('held@example.com')).rejects.toMatchObject({
      code: 'REAUTHORIZATION_REQUIRED',
    })
    await expect(sessions.clientFor('gone@example.com')).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_CONNECTED',
    })
    await expect(sessions.clientFor('nobody@example.com')).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_CONNECTED',
    })
  })

  it('reads the account again after forget (new tokens after a reauthorization)', async () => {
    const time = manualTime()
    const store = memoryAccounts([
      account({ accessToken: 'ya29.a', accessTokenExpiresAt: time.now() + HOUR }),
    ])
    const { sessions } = replica({ time, google: fakeGoogle(time), store })
    expect((await sessions.clientFor('ann@example.com')).accessToken).toBe('ya29.a')
    await store.save(account({ accessToken: 'ya29.b', accessTokenExpiresAt: time.now() + HOUR }))
    expect((await sessions.clientFor('ann@example.com')).accessToken).toBe('ya29.a')
    sessions.forget('ann@example.com')
    expect((await sessions.clientFor('ann@example.com')).accessToken).toBe('ya29.b')
  })
})

describe('inProcessRefreshCoordinator', () => {
  it('runs the work of one account one at a time, of different accounts together, and goes on after a failure', async () => {
    const coordinator = inProcessRefreshCoordinator()
    const log: string[] = []
    const work =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`)
        await new Promise((resolve) => setTimeout(resolve, 5))
        log.push(`end ${name}`)
        if (fail) throw new Error(name)
        return name
      }
    const results = await Promise.allSettled([
      coordinator.run('a', work('a1', true)),
      coordinator.run('a', work('a2')),
      coordinator.run('b', work('b1')),
    ])
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'))
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'))
  })
})
