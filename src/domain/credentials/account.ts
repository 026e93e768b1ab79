/**
 * A connected Google account and its credentials, as the domain sees them
 * (plaintext; the storage adapter encrypts the tokens at rest).
 */
export type AccountState = 'connected' | 'reauthorization_required' | 'revoked'

export interface RecordedAccountError {
  code: string
  message: string
}

export interface Account {
  /** Lower-case email of the Google account; the key. */
  email: string
  status: AccountState
  scopes: string[]
  isDefault: boolean
  /** Epoch ms of the first connection (kept across reauthorizations). */
  connectedAt: number
  /** Epoch ms of the last successful access-token refresh or code exchange. */
  lastRefreshAt?: number
  lastError?: RecordedAccountError
  refreshToken?: string
  accessToken?: string
  /** Epoch ms at which the access token expires. */
  accessTokenExpiresAt?: number
  /**
   * Epoch ms at which Google will kill the refresh token, where known
   * (`refresh_token_expires_in` of the token response, or 7 days after
   * consent for an app in Testing).
   */
  refreshTokenExpiresAt?: number
  /** The `refreshTokenExpiresAt` an `account.expiring` warning was already given for. */
  expiryWarnedFor?: number
}

/** The tokens Google gave at a code exchange or a refresh. */
export interface GrantedTokens {
  accessToken: string
  /** Present only when Google issued (or rotated) one. */
  refreshToken?: string
  /** Epoch ms. */
  expiresAt?: number
  /** Epoch ms at which the refresh token dies, when Google said (`refresh_token_expires_in`). */
  refreshTokenExpiresAt?: number
  scopes: string[]
}

/** The scopes the service asks for: send only, plus the identity of the account. */
export const REQUIRED_SCOPES = ['https://www.googleapis.com/auth/gmail.send', 'openid', 'email'] as const
export const GMAIL_SEND_SCOPE = 'https://www.googleapis.com/auth/gmail.send'
