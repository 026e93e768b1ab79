/**
 * How an account changes when Google answers a token refresh.
 * See https://developers.google.com/identity/protocols/oauth2#expiration
 */
import type { Account, GrantedTokens } from './account.ts'
import { deadlineAfterRefresh } from './expiry.ts'

export type RefreshOutcome =
  | { kind: 'refreshed'; tokens: GrantedTokens }
  /** `400 invalid_grant`: revoked, expired (7 days in Testing), password changed, unused 6 months. */
  | { kind: 'invalid_grant' }
  /** Google or the network failed; the refresh token may still be good. */
  | { kind: 'transient'; code: string; message: string }

export const REAUTHORIZATION_MESSAGE =
  'Google refused the refresh token (expired or revoked); an admin must reauthorize the account'

/** The account after a refresh outcome. A rotated refresh token replaces the stored one. */
export function applyRefreshOutcome(account: Account, outcome: RefreshOutcome, now: number): Account {
  switch (outcome.kind) {
    case 'refreshed': {
      const { lastError: _dropped, ...rest } = account
      const next: Account = {
        ...rest,
        status: 'connected',
        lastRefreshAt: now,
        accessToken: outcome.tokens.accessToken,
        refreshToken: outcome.tokens.refreshToken ?? account.refreshToken,
      } as Account
      if (outcome.tokens.expiresAt !== undefined) next.accessTokenExpiresAt = outcome.tokens.expiresAt
      const deadline = deadlineAfterRefresh(account.refreshTokenExpiresAt, outcome.tokens)
      if (deadline !== undefined) next.refreshTokenExpiresAt = deadline
      return next
    }
    case 'invalid_grant': {
      const { accessToken: _a, accessTokenExpiresAt: _e, ...rest } = account
      return {
        ...rest,
        status: 'reauthorization_required',
        lastError: { code: 'REAUTHORIZATION_REQUIRED', message: REAUTHORIZATION_MESSAGE },
      }
    }
    case 'transient':
      return { ...account, lastError: { code: outcome.code, message: outcome.message } }
  }
}

/** The account after an admin disconnects it: no tokens kept (nor the deadline of one), history kept. */
export function disconnectAccount(account: Account): Account {
  const {
    accessToken: _a,
    accessTokenExpiresAt: _e,
    refreshToken: _r,
    refreshTokenExpiresAt: _d,
    lastError: _l,
    ...rest
  } = account
  return { ...rest, status: 'revoked', isDefault: false }
}
