/**
 * What to do with the tokens that come back to the OAuth callback: the
 * seed's credential rule, as a pure decision.
 *
 * - A refresh token that comes back is stored, keyed by the account's email.
 * - When none comes back, a working refresh token already stored for that
 *   account is kept and used.
 * - When there is none at all, the admin goes back to Google with consent forced
 *   (Google only issues a refresh token when the consent screen was shown).
 *
 * See https://developers.google.com/identity/protocols/oauth2/web-server#offline
 */
import { type Account, GMAIL_SEND_SCOPE, type GrantedTokens } from './account.ts'
import { deadlineAfterConsent } from './expiry.ts'

export type CallbackDecision =
  | { kind: 'store'; account: Account; reconnected: boolean }
  | { kind: 'consent_required' }
  | { kind: 'scope_missing'; granted: string[] }

export interface CallbackFacts {
  email: string
  granted: GrantedTokens
  /** The account as stored before this authorization, if any. */
  existing?: Account
  /** Whether any other account is connected (the first one becomes the default). */
  hasOtherAccounts: boolean
  /** The app is in Testing (`GOOGLE_APP_TESTING`): a refresh token dies 7 days after consent. */
  appTesting?: boolean
  now: number
}

/** Applies the seed's rule to the outcome of a successful code exchange. */
export function decideCallback(facts: CallbackFacts): CallbackDecision {
  const { granted, existing, now } = facts
  if (!granted.scopes.includes(GMAIL_SEND_SCOPE)) {
    return { kind: 'scope_missing', granted: granted.scopes }
  }
  const storedUsable = existing?.status === 'connected' ? existing.refreshToken : undefined
  const refreshToken = granted.refreshToken ?? storedUsable
  if (refreshToken === undefined) return { kind: 'consent_required' }

  const account: Account = {
    email: facts.email,
    status: 'connected',
    scopes: granted.scopes,
    isDefault: existing?.isDefault ?? !facts.hasOtherAccounts,
    connectedAt: existing?.connectedAt ?? now,
    lastRefreshAt: now,
    refreshToken,
    accessToken: granted.accessToken,
  }
  if (granted.expiresAt !== undefined) account.accessTokenExpiresAt = granted.expiresAt
  const deadline = deadlineAfterConsent({
    granted,
    existing: storedUsable === undefined ? undefined : existing?.refreshTokenExpiresAt,
    appTesting: facts.appTesting ?? false,
    now,
  })
  if (deadline !== undefined) account.refreshTokenExpiresAt = deadline
  // The warning given stays given: a new deadline differs from it, so a new one is due.
  if (existing?.expiryWarnedFor !== undefined) account.expiryWarnedFor = existing.expiryWarnedFor
  const reconnected = existing !== undefined && existing.status !== 'connected'
  return { kind: 'store', account, reconnected }
}
