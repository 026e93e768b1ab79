import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openAccountRepository } from '../../../src/adapters/lowdb/account-store.ts'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import type { Account } from '../../../src/domain/credentials/account.ts'
import { makeTempDir, modeOf, T0, textUnder } from './fixtures.ts'

const oldKey = new Uint8Array(32).fill(11)
const newKey = new Uint8Array(32).fill(22)

function account(overrides: Partial<Account> = {}): Account {
  return {
    email: 'ann@example.com',
    status: 'connected',
    scopes: ['https://www.googleapis.com/auth/gmail.send', 'openid', 'email'],
    isDefault: true,
    connectedAt: T0,
    refreshToken: '1//0refresh-SECRET-value',
    accessToken: 'ya29.access-SECRET-value',
    accessTokenExpiresAt: T0 + 3_600_000,
    ...overrides,
  }
}

describe('openAccountRepository', () => {
  it('saves an account and reads it back after reopening, keyed by lower-case email', async () => {
    const dataDir = await makeTempDir()
    const cipher = createTokenCipher([newKey])
    const repository = await openAccountRepository({ dataDir, cipher })
    await repository.save(account({ email: 'Ann@Example.com' }))

    const reopened = await openAccountRepository({ dataDir, cipher })
    expect(await reopened.get('ANN@example.com')).toEqual(account())
    expect(await reopened.list()).toEqual([account()])
    expect(await reopened.get('bob@example.com')).toBeUndefined()
  })

  it('keeps no token readable in any file, and the file owner-only', async () => {
    const dataDir = await makeTempDir()
    const repository = await openAccountRepository({ dataDir, cipher: createTokenCipher([newKey]) })
    await repository.save(account())

    const text = await textUnder(dataDir)
    expect(text).toContain('ann@example.com')
    expect(text).not.toContain('SECRET')
    expect(await modeOf(join(dataDir, 'accounts.json'))).toBe(0o600)
    expect(await modeOf(dataDir)).toBe(0o700)
  })

  it('replaces an account on save, dropping a token it no longer has', async () => {
    const dataDir = await makeTempDir()
    const cipher = createTokenCipher([newKey])
    const repository = await openAccountRepository({ dataDir, cipher })
    await repository.save(account())
    const { accessToken: _, accessTokenExpiresAt: __, ...withoutAccess } = account({ status: 'revoked' })
    await repository.save(withoutAccess)

    const reopened = await openAccountRepository({ dataDir, cipher })
    expect(await reopened.get('ann@example.com')).toEqual(withoutAccess)
  })

  it('re-encrypts tokens sealed with an old key under the current key on open', async () => {
    const dataDir = await makeTempDir()
    const first = await openAccountRepository({ dataDir, cipher: createTokenCipher([oldKey]) })
    await first.save(account())

    const rotated = await openAccountRepository({ dataDir, cipher: createTokenCipher([newKey, oldKey]) })
    expect(await rotated.get('ann@example.com')).toEqual(account())

    // Only the new key is needed from now on.
    const newOnly = await openAccountRepository({ dataDir, cipher: createTokenCipher([newKey]) })
    expect(await newOnly.get('ann@example.com')).toEqual(account())
    expect(await textUnder(dataDir)).not.toContain('SECRET')
  })

  it('refuses to open when the stored tokens were sealed with a key it does not hold', async () => {
    const dataDir = await makeTempDir()
    const first = await openAccountRepository({ dataDir, cipher: createTokenCipher([oldKey]) })
    await first.save(account())

    await expect(
      openAccountRepository({ dataDir, cipher: createTokenCipher([newKey]) }),
    ).rejects.toMatchObject({
      code: 'CONFIG',
    })
  })

  it('refuses a corrupt accounts file', async () => {
    const dataDir = await makeTempDir()
    await writeFile(join(dataDir, 'accounts.json'), 'not json')
    await expect(
      openAccountRepository({ dataDir, cipher: createTokenCipher([newKey]) }),
    ).rejects.toMatchObject({ code: 'STORAGE', message: 'The store file accounts.json is not valid JSON' })
  })

  it('detects a token swapped from one account to another', async () => {
    const dataDir = await makeTempDir()
    const cipher = createTokenCipher([newKey])
    const repository = await openAccountRepository({ dataDir, cipher })
    await repository.save(account())
    await repository.save(account({ email: 'bob@example.com', isDefault: false, refreshToken: 'bob-SECRET' }))

    const path = join(dataDir, 'accounts.json')
    const stored = JSON.parse(await readFile(path, 'utf8'))
    stored.accounts['bob@example.com'].sealedRefreshToken =
      stored.accounts['ann@example.com'].sealedRefreshToken
    await writeFile(path, JSON.stringify(stored))

    await expect(openAccountRepository({ dataDir, cipher })).rejects.toMatchObject({ code: 'STORAGE' })
  })
})
