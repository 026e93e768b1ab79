import { describe, expect, it } from 'vitest'
import type { Account } from '../../../src/domain/credentials/account.ts'
import { applyRefreshOutcome, disconnectAccount } from '../../../src/domain/credentials/refresh.ts'

const account: Account = {
  email: 'support@example.com',
  status: 'connected',
  scopes: ['https://www.googleapis.com/auth/gmail.send'],
  isDefault: true,
  connectedAt: 1,
  refreshToken: 'rt-1',
  accessToken: 'at-1',
  accessTokenExpiresAt: 100,
}

describe('applyRefreshOutcome', () => {
  it('records a fresh access token and keeps the refresh token when Google did not rotate it', () => {
    const next = applyRefreshOutcome(
      account,
      { kind: 'refreshed', tokens: { accessToken: 'at-2', expiresAt: 200, scopes: [] } },
      50,
    )
    expect(next).toMatchObject({
      accessToken: 'at-2',
      accessTokenExpiresAt: 200,
      refreshToken: 'rt-1',
      lastRefreshAt: 50,
    })
  })

  it('replaces the refresh token when Google rotated it', () => {
    const next = applyRefreshOutcome(
      account,
      { kind: 'refreshed', tokens: { accessToken: 'at-2', refreshToken: 'rt-2', scopes: [] } },
      50,
    )
    expect(next.refreshToken).toBe('rt-2')
  })

  it('turns invalid_grant into reauthorization required and forgets the access token', () => {
    const next = applyRefreshOutcome(account, { kind: 'invalid_grant' }, 50)
    expect(next.status).toBe('reauthorization_required')
    expect(next.lastError?.code).toBe('REAUTHORIZATION_REQUIRED')
    expect(next.accessToken).toBeUndefined()
  })

  it('keeps the account connected on a transient failure, noting the error', () => {
    const next = applyRefreshOutcome(
      account,
      { kind: 'transient', code: 'NETWORK', message: 'Connection reset' },
      50,
    )
    expect(next).toMatchObject({ status: 'connected', refreshToken: 'rt-1', lastError: { code: 'NETWORK' } })
  })

  it('clears the last error after a successful refresh', () => {
    const failed = applyRefreshOutcome(account, { kind: 'transient', code: 'NETWORK', message: 'x' }, 50)
    const next = applyRefreshOutcome(
      failed,
      { kind: 'refreshed', tokens: { accessToken: 'a', scopes: [] } },
      60,
    )
    expect(next.lastError).toBeUndefined()
  })
})

describe('disconnectAccount', () => {
  it('forgets every token and the default flag but keeps the account', () => {
    const next = disconnectAccount(account)
    expect(next).toMatchObject({ email: 'support@example.com', status: 'revoked', isDefault: false })
    expect(next.refreshToken).toBeUndefined()
    expect(next.accessToken).toBeUndefined()
  })
})
