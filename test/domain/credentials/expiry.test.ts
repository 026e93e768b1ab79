import { describe, expect, it } from 'vitest'
import type { Account, GrantedTokens } from '../../../src/domain/credentials/account.ts'
import { decideCallback } from '../../../src/domain/credentials/callback.ts'
import {
  DEADLINE_TOLERANCE_MS,
  deadlineAfterConsent,
  deadlineAfterRefresh,
  EXPIRY_WARNING_MS,
  isExpiring,
  isWarningDue,
  TESTING_REFRESH_TOKEN_LIFETIME_MS,
} from '../../../src/domain/credentials/expiry.ts'
import { applyRefreshOutcome, disconnectAccount } from '../../../src/domain/credentials/refresh.ts'

const SCOPES = ['https://www.googleapis.com/auth/gmail.send', 'openid', 'email']
const now = 1_800_000_000_000
const day = 86_400_000
const granted = (extra: Partial<GrantedTokens> = {}): GrantedTokens => ({
  accessToken: 'at-new',
  scopes: SCOPES,
  ...extra,
})
const account = (extra: Partial<Account> = {}): Account => ({
  email: 'support@example.com',
  status: 'connected',
  scopes: SCOPES,
  isDefault: true,
  connectedAt: now - day,
  refreshToken: 'rt-old',
  ...extra,
})

describe('deadlineAfterConsent', () => {
  it("takes Google's refresh_token_expires_in (a time-limited grant) first, in Testing too", () => {
    const tokens = granted({ refreshToken: 'rt', refreshTokenExpiresAt: now + 3 * day })
    expect(deadlineAfterConsent({ granted: tokens, appTesting: false, now })).toBe(now + 3 * day)
    expect(deadlineAfterConsent({ granted: tokens, appTesting: true, now })).toBe(now + 3 * day)
  })

  it('gives a token issued by a consent of an app in Testing 7 days from that consent', () => {
    const deadline = deadlineAfterConsent({ granted: granted({ refreshToken: 'rt' }), appTesting: true, now })
    expect(TESTING_REFRESH_TOKEN_LIFETIME_MS).toBe(7 * day)
    expect(deadline).toBe(now + 7 * day)
  })

  it('starts a new 7 days at a new consent, whatever the old token had left', () => {
    const deadline = deadlineAfterConsent({
      granted: granted({ refreshToken: 'rt-new' }),
      existing: now + day,
      appTesting: true,
      now,
    })
    expect(deadline).toBe(now + 7 * day)
  })

  it('keeps the deadline of the stored token when no new one came back', () => {
    expect(deadlineAfterConsent({ granted: granted(), existing: now + day, appTesting: true, now })).toBe(
      now + day,
    )
    expect(deadlineAfterConsent({ granted: granted(), appTesting: true, now })).toBeUndefined()
  })

  it('knows no deadline for a new token of a published app that Google gave no lifetime', () => {
    expect(
      deadlineAfterConsent({
        granted: granted({ refreshToken: 'rt' }),
        existing: now + day,
        appTesting: false,
        now,
      }),
    ).toBeUndefined()
  })
})

describe('deadlineAfterRefresh', () => {
  it('keeps the stored deadline when Google says nothing of the lifetime', () => {
    expect(deadlineAfterRefresh(now + day, granted())).toBe(now + day)
    expect(deadlineAfterRefresh(undefined, granted())).toBeUndefined()
  })

  it("keeps the stored deadline when the same token's lifetime, reported again, moved by seconds", () => {
    const reported = granted({ refreshTokenExpiresAt: now + day + 1_500 })
    expect(deadlineAfterRefresh(now + day, reported)).toBe(now + day)
    const edge = granted({ refreshTokenExpiresAt: now + day - DEADLINE_TOLERANCE_MS })
    expect(deadlineAfterRefresh(now + day, edge)).toBe(now + day)
  })

  it('takes a lifetime that moved further, or one reported for the first time', () => {
    const later = granted({ refreshTokenExpiresAt: now + 2 * day })
    expect(deadlineAfterRefresh(now + day, later)).toBe(now + 2 * day)
    expect(deadlineAfterRefresh(undefined, later)).toBe(now + 2 * day)
  })

  it("takes a rotated token's lifetime as it is, however close to the old one", () => {
    const rotated = granted({ refreshToken: 'rt-rotated', refreshTokenExpiresAt: now + day + 1_000 })
    expect(deadlineAfterRefresh(now + day, rotated)).toBe(now + day + 1_000)
  })
})

describe('isExpiring and isWarningDue', () => {
  const deadline = now + 7 * day
  const expiring = account({ refreshTokenExpiresAt: deadline })

  it('says a connected account expires from 24 h before its deadline on, not a moment sooner', () => {
    expect(EXPIRY_WARNING_MS).toBe(day)
    expect(isExpiring(expiring, deadline - day - 1)).toBe(false)
    expect(isExpiring(expiring, deadline - day)).toBe(true)
    expect(isExpiring(expiring, deadline - 1)).toBe(true)
    // Past the deadline, still connected (no refresh has failed yet): still expiring.
    expect(isExpiring(expiring, deadline + day)).toBe(true)
  })

  it('says no account expires without a known deadline, or that is not connected', () => {
    expect(isExpiring(account(), deadline)).toBe(false)
    for (const status of ['reauthorization_required', 'revoked'] as const) {
      expect(isExpiring({ ...expiring, status }, deadline - 1)).toBe(false)
    }
  })

  it('makes the warning due once per deadline: not again after it was given, again for a new one', () => {
    const at = deadline - 3_600_000
    expect(isWarningDue(expiring, at)).toBe(true)
    expect(isWarningDue(account({ refreshTokenExpiresAt: deadline, expiryWarnedFor: deadline }), at)).toBe(
      false,
    )
    const renewed = account({ refreshTokenExpiresAt: deadline + 7 * day, expiryWarnedFor: deadline })
    expect(isWarningDue(renewed, at)).toBe(false)
    expect(isWarningDue(renewed, deadline + 6 * day + 1)).toBe(true)
    expect(isWarningDue(expiring, deadline - day - 1)).toBe(false)
  })
})

describe('the deadline through the credential decisions', () => {
  it('records 7 days from the callback for an app in Testing, keeping the warning already given', () => {
    const decision = decideCallback({
      email: 'support@example.com',
      granted: granted({ refreshToken: 'rt-new' }),
      existing: account({
        status: 'reauthorization_required',
        refreshTokenExpiresAt: now - 1,
        expiryWarnedFor: now - 1,
      }),
      hasOtherAccounts: false,
      appTesting: true,
      now,
    })
    expect(decision).toMatchObject({
      kind: 'store',
      account: { refreshTokenExpiresAt: now + 7 * day, expiryWarnedFor: now - 1 },
    })
    if (decision.kind === 'store') expect(isWarningDue(decision.account, now)).toBe(false)
  })

  it('keeps the deadline of a stored token the callback keeps, and records none outside Testing', () => {
    const kept = decideCallback({
      email: 'support@example.com',
      granted: granted(),
      existing: account({ refreshTokenExpiresAt: now + day }),
      hasOtherAccounts: false,
      appTesting: true,
      now,
    })
    expect(kept).toMatchObject({ kind: 'store', account: { refreshTokenExpiresAt: now + day } })
    const published = decideCallback({
      email: 'support@example.com',
      granted: granted({ refreshToken: 'rt-new' }),
      hasOtherAccounts: false,
      now,
    })
    expect(published.kind === 'store' && 'refreshTokenExpiresAt' in published.account).toBe(false)
  })

  it('moves the deadline when a refresh rotates the token with a new lifetime, and drops it on disconnect', () => {
    const before = account({ refreshTokenExpiresAt: now + day, expiryWarnedFor: now + day })
    const after = applyRefreshOutcome(
      before,
      { kind: 'refreshed', tokens: granted({ refreshToken: 'rt-2', refreshTokenExpiresAt: now + 5 * day }) },
      now,
    )
    expect(after).toMatchObject({ refreshToken: 'rt-2', refreshTokenExpiresAt: now + 5 * day })
    expect(isWarningDue(after, now + 4 * day + 1)).toBe(true)
    const plain = applyRefreshOutcome(before, { kind: 'refreshed', tokens: granted() }, now)
    expect(plain.refreshTokenExpiresAt).toBe(now + day)
    const dead = applyRefreshOutcome(before, { kind: 'invalid_grant' }, now)
    expect(dead).toMatchObject({ status: 'reauthorization_required', refreshTokenExpiresAt: now + day })
    expect('refreshTokenExpiresAt' in disconnectAccount(before)).toBe(false)
  })
})
