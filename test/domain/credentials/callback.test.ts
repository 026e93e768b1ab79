import { describe, expect, it } from 'vitest'
import type { Account, GrantedTokens } from '../../../src/domain/credentials/account.ts'
import { decideCallback } from '../../../src/domain/credentials/callback.ts'

const SCOPES = ['https://www.googleapis.com/auth/gmail.send', 'openid', 'email']
const now = 1_800_000_000_000
const granted = (extra: Partial<GrantedTokens> = {}): GrantedTokens => ({
  accessToken: 'at-new',
  scopes: SCOPES,
  ...extra,
})
const stored = (extra: Partial<Account> = {}): Account => ({
  email: 'support@example.com',
  status: 'connected',
  scopes: SCOPES,
  isDefault: true,
  connectedAt: now - 86_400_000,
  refreshToken: 'rt-old',
  ...extra,
})

describe('decideCallback (the seed credential rule)', () => {
  it('stores a returned refresh token for a new account, which becomes the default when it is the first', () => {
    const decision = decideCallback({
      email: 'support@example.com',
      granted: granted({ refreshToken: 'rt-new', expiresAt: now + 3_600_000 }),
      hasOtherAccounts: false,
      now,
    })
    expect(decision.kind).toBe('store')
    if (decision.kind !== 'store') return
    expect(decision.account).toMatchObject({
      email: 'support@example.com',
      status: 'connected',
      refreshToken: 'rt-new',
      accessToken: 'at-new',
      accessTokenExpiresAt: now + 3_600_000,
      isDefault: true,
      connectedAt: now,
    })
  })

  it('does not make a second account the default', () => {
    const decision = decideCallback({
      email: 'b@example.com',
      granted: granted({ refreshToken: 'rt' }),
      hasOtherAccounts: true,
      now,
    })
    expect(decision.kind === 'store' && decision.account.isDefault).toBe(false)
  })

  it('replaces a stored refresh token with a returned one and keeps connectedAt', () => {
    const decision = decideCallback({
      email: 'support@example.com',
      granted: granted({ refreshToken: 'rt-new' }),
      existing: stored(),
      hasOtherAccounts: false,
      now,
    })
    expect(decision.kind === 'store' && decision.account.refreshToken).toBe('rt-new')
    expect(decision.kind === 'store' && decision.account.connectedAt).toBe(now - 86_400_000)
  })

  it('keeps and uses the stored refresh token when none comes back', () => {
    const decision = decideCallback({
      email: 'support@example.com',
      granted: granted(),
      existing: stored(),
      hasOtherAccounts: false,
      now,
    })
    expect(decision.kind === 'store' && decision.account.refreshToken).toBe('rt-old')
    expect(decision.kind === 'store' && decision.account.accessToken).toBe('at-new')
  })

  it('sends the admin back with consent forced when there is no refresh token at all', () => {
    expect(
      decideCallback({ email: 'new@example.com', granted: granted(), hasOtherAccounts: false, now }),
    ).toEqual({
      kind: 'consent_required',
    })
  })

  it('does not reuse a stored refresh token Google already refused', () => {
    const decision = decideCallback({
      email: 'support@example.com',
      granted: granted(),
      existing: stored({ status: 'reauthorization_required' }),
      hasOtherAccounts: false,
      now,
    })
    expect(decision.kind).toBe('consent_required')
  })

  it('marks a reauthorization of a held account as a reconnection', () => {
    const decision = decideCallback({
      email: 'support@example.com',
      granted: granted({ refreshToken: 'rt-fresh' }),
      existing: stored({
        status: 'reauthorization_required',
        lastError: { code: 'REAUTHORIZATION_REQUIRED', message: 'x' },
      }),
      hasOtherAccounts: false,
      now,
    })
    expect(decision).toMatchObject({
      kind: 'store',
      reconnected: true,
      account: { status: 'connected', refreshToken: 'rt-fresh' },
    })
    expect(decision.kind === 'store' && decision.account.lastError).toBeUndefined()
  })

  it('refuses a grant without the gmail.send scope', () => {
    const decision = decideCallback({
      email: 'a@example.com',
      granted: granted({ refreshToken: 'rt', scopes: ['openid', 'email'] }),
      hasOtherAccounts: false,
      now,
    })
    expect(decision.kind).toBe('scope_missing')
  })
})
