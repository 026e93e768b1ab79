/**
 * What every AccountRepository promises, whatever keeps the accounts: run
 * on the in-memory fake, the lowdb files and PostgreSQL
 * (account-repository.test.ts). A durable store is also held to what
 * survives a reopen and to keeping no token in clear where it writes.
 */
import { beforeEach, expect, it } from 'vitest'
import { createTokenCipher, type TokenCipher } from '../../src/adapters/lowdb/token-cipher.ts'
import type { Account } from '../../src/domain/credentials/account.ts'
import type { AccountRepository } from '../../src/domain/ports.ts'

/** One empty store, made fresh for each test. */
export interface AccountStoreUnderTest {
  /** A repository on the store; called again, another one on the same storage (a reopen, a new pool). */
  open(cipher: TokenCipher): Promise<AccountRepository>
  /** Everything the store wrote (its files, its rows) as text; absent for a store that writes nothing (the fake). */
  rawText?(): Promise<string>
}

const KEY = new Uint8Array(32).fill(7)
const OLD_KEY = new Uint8Array(32).fill(8)
const T = Date.UTC(2026, 4, 10, 12, 0, 0)
const REFRESH = '1//0refresh-token-IN-CLEAR'
const ACCESS = 'ya29.access-token-IN-CLEAR'

function account(overrides: Partial<Account> = {}): Account {
  return {
    email: 'ann@example.com',
    status: 'connected',
    scopes: ['https://www.googleapis.com/auth/gmail.send', 'openid', 'email'],
    isDefault: false,
    connectedAt: T,
    lastRefreshAt: T + 1_234,
    lastError: { code: 'NETWORK', message: 'Could not reach Google' },
    refreshToken: REFRESH,
    accessToken: ACCESS,
    accessTokenExpiresAt: T + 3_600_123,
    refreshTokenExpiresAt: T + 7 * 86_400_000 + 456,
    expiryWarnedFor: T + 86_400_000 + 789,
    ...overrides,
  }
}

/** Only what the domain requires: no refresh time, no error, no tokens. */
function bareAccount(email: string, overrides: Partial<Account> = {}): Account {
  return { email, status: 'revoked', scopes: [], isDefault: false, connectedAt: T, ...overrides }
}

/** `durable`: the store writes somewhere (files, a database), so reopening and the raw text are tested too. */
export function accountRepositoryContract(
  fresh: () => Promise<AccountStoreUnderTest>,
  options: { durable: boolean },
): void {
  const cipher = createTokenCipher([KEY])
  let store: AccountStoreUnderTest
  let accounts: AccountRepository
  beforeEach(async () => {
    store = await fresh()
    accounts = await store.open(cipher)
  })

  it('gives back a saved account as it was saved, tokens and times included', async () => {
    await accounts.save(account())
    expect(await accounts.get('ann@example.com')).toStrictEqual(account())
    expect(await accounts.list()).toStrictEqual([account()])
  })

  it('keeps an account without optional fields without inventing them', async () => {
    await accounts.save(bareAccount('bob@example.com'))
    expect(await accounts.get('bob@example.com')).toStrictEqual(bareAccount('bob@example.com'))
  })

  it('knows no account it was not given', async () => {
    expect(await accounts.get('nobody@example.com')).toBeUndefined()
    expect(await accounts.list()).toEqual([])
  })

  it('replaces an account on save, dropping the tokens and error it no longer has', async () => {
    await accounts.save(account())
    const replaced = bareAccount('ann@example.com', {
      status: 'reauthorization_required',
      scopes: ['openid'],
      connectedAt: T,
    })
    await accounts.save(replaced)
    expect(await accounts.get('ann@example.com')).toStrictEqual(replaced)
    expect(await accounts.list()).toHaveLength(1)
  })

  it("keeps the refresh token's deadline and the warning given, to the millisecond, and changes them on save", async () => {
    const deadline = T + 7 * 86_400_000 + 1
    const { expiryWarnedFor: _none, ...unwarned } = account({ refreshTokenExpiresAt: deadline })
    await accounts.save(unwarned)
    expect(await accounts.get('ann@example.com')).toStrictEqual(unwarned)
    // The watcher's save: the warning now given for that very deadline.
    await accounts.save({ ...unwarned, expiryWarnedFor: deadline })
    const warned = await accounts.get('ann@example.com')
    expect(warned?.expiryWarnedFor).toBe(warned?.refreshTokenExpiresAt)
    expect(warned?.expiryWarnedFor).toBe(deadline)
    // A reauthorization: a new deadline, the old warning kept.
    await accounts.save({
      ...unwarned,
      refreshTokenExpiresAt: deadline + 7 * 86_400_000,
      expiryWarnedFor: deadline,
    })
    expect(await accounts.list()).toStrictEqual([
      { ...unwarned, refreshTokenExpiresAt: deadline + 7 * 86_400_000, expiryWarnedFor: deadline },
    ])
  })

  it('keys accounts by lower-case email: found whatever the case asked, one account per address', async () => {
    await accounts.save(account({ email: 'Ann@Example.COM' }))
    expect(await accounts.get('ann@example.com')).toStrictEqual(account())
    expect(await accounts.get('ANN@EXAMPLE.COM')).toStrictEqual(account())
    await accounts.save(account({ email: 'ann@example.com', status: 'revoked' }))
    expect(await accounts.list()).toStrictEqual([account({ status: 'revoked' })])
  })

  it('lists accounts ordered by email', async () => {
    for (const email of ['carol@example.com', 'ann@example.com', 'bob@example.com'])
      await accounts.save(bareAccount(email))
    expect((await accounts.list()).map((each) => each.email)).toEqual([
      'ann@example.com',
      'bob@example.com',
      'carol@example.com',
    ])
  })

  it('keeps at most one default: a new default takes the flag from the old one', async () => {
    await accounts.save(account({ isDefault: true }))
    await accounts.save(bareAccount('bob@example.com', { isDefault: true }))
    expect((await accounts.get('ann@example.com'))?.isDefault).toBe(false)
    expect((await accounts.get('bob@example.com'))?.isDefault).toBe(true)
    // The old default keeps everything else.
    expect(await accounts.get('ann@example.com')).toStrictEqual(account({ isDefault: false }))
    // Saving a non-default account changes no one's flag.
    await accounts.save(bareAccount('carol@example.com'))
    expect((await accounts.list()).filter((each) => each.isDefault).map((each) => each.email)).toEqual([
      'bob@example.com',
    ])
  })

  it('ends with exactly one default when several are saved as the default at once', async () => {
    const emails = ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']
    await Promise.all(emails.map((email) => accounts.save(bareAccount(email, { isDefault: true }))))
    const all = await accounts.list()
    expect(all).toHaveLength(4)
    expect(all.filter((each) => each.isDefault)).toHaveLength(1)
  })

  it('hands out copies: changing a returned account changes nothing stored', async () => {
    await accounts.save(account())
    const got = await accounts.get('ann@example.com')
    got!.scopes.push('extra')
    got!.status = 'revoked'
    const [listed] = await accounts.list()
    listed!.lastError!.code = 'CHANGED'
    expect(await accounts.get('ann@example.com')).toStrictEqual(account())
  })

  if (!options.durable) return

  it('keeps everything saved across a reopen, tokens included', async () => {
    await accounts.save(account({ isDefault: true }))
    await accounts.save(bareAccount('bob@example.com'))
    const reopened = await store.open(cipher)
    expect(await reopened.list()).toStrictEqual([
      account({ isDefault: true }),
      bareAccount('bob@example.com'),
    ])
  })

  it('reads tokens sealed under an old key after a key rotation', async () => {
    const before = await store.open(createTokenCipher([OLD_KEY]))
    await before.save(account())
    const rotated = await store.open(createTokenCipher([KEY, OLD_KEY]))
    expect(await rotated.get('ann@example.com')).toStrictEqual(account())
  })

  it('never writes a token in clear', async () => {
    await accounts.save(account())
    await accounts.save(account({ email: 'bob@example.com', refreshToken: `${REFRESH}-bob` }))
    const text = (await store.rawText?.()) ?? ''
    // The text read is the store's: the accounts are there, their tokens only sealed.
    expect(text).toContain('bob@example.com')
    expect(text).toMatch(/v1\.[0-9a-f]{8}\./)
    expect(text).not.toContain('IN-CLEAR')
  })
}
