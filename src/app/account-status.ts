/** The contract's `AccountStatus`: an account as callers see it, without tokens. */
import type { Account, AccountState, RecordedAccountError } from '../domain/credentials/account.ts'

export interface AccountStatus {
  email: string
  status: AccountState
  scopes: string[]
  isDefault: boolean
  connectedAt: string
  lastRefreshAt?: string
  /** When Google will kill the refresh token, where known (Testing mode, time-limited grants). */
  expiresAt?: string
  lastError?: RecordedAccountError
}

export function toAccountStatus(account: Account): AccountStatus {
  const status: AccountStatus = {
    email: account.email,
    status: account.status,
    scopes: account.scopes,
    isDefault: account.isDefault,
    connectedAt: new Date(account.connectedAt).toISOString(),
  }
  if (account.lastRefreshAt !== undefined)
    status.lastRefreshAt = new Date(account.lastRefreshAt).toISOString()
  if (account.refreshTokenExpiresAt !== undefined && account.status !== 'revoked')
    status.expiresAt = new Date(account.refreshTokenExpiresAt).toISOString()
  if (account.lastError !== undefined) status.lastError = account.lastError
  return status
}
