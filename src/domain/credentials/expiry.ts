/**
 * When Google will end an account's refresh token, and when the admin must
 * hear of it. Two things tell the deadline:
 *
 * - `refresh_token_expires_in` of a token response, when the user granted
 *   time-based access (the adapter turns it into `refreshTokenExpiresAt`);
 * - the admin's word that the app is in Testing (`GOOGLE_APP_TESTING`):
 *   Google then ends every refresh token 7 days after the consent that
 *   issued it, and a new consent starts a new 7 days.
 *
 * Otherwise the deadline is unknown (Google may still revoke a token, which
 * the refresh path handles). See
 * https://developers.google.com/identity/protocols/oauth2#expiration and
 * https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code
 */
import type { Account, GrantedTokens } from './account.ts'

const hourMs = 3_600_000

/** How long a refresh token of an app in Testing lives after consent. */
export const TESTING_REFRESH_TOKEN_LIFETIME_MS = 7 * 24 * hourMs

/** How long before the deadline the admin is warned (banner, `account.expiring`, /readyz). */
export const EXPIRY_WARNING_MS = 24 * hourMs

/**
 * How far a deadline reported again for the same refresh token may move
 * without counting as a new one: Google reports the remaining lifetime in
 * whole seconds, measured after a network round trip.
 */
export const DEADLINE_TOLERANCE_MS = 60_000

/**
 * The deadline of the refresh token an account holds after a consent (the
 * OAuth callback): Google's word first, then the Testing rule for a token
 * this consent issued; a stored token kept (none came back) keeps its own.
 */
export function deadlineAfterConsent(facts: {
  granted: GrantedTokens
  /** The deadline of the stored token, when the callback keeps it. */
  existing?: number | undefined
  appTesting: boolean
  now: number
}): number | undefined {
  const { granted } = facts
  if (granted.refreshTokenExpiresAt !== undefined) return granted.refreshTokenExpiresAt
  if (granted.refreshToken === undefined) return facts.existing
  return facts.appTesting ? facts.now + TESTING_REFRESH_TOKEN_LIFETIME_MS : undefined
}

/**
 * The deadline after a refresh. A rotated token's lifetime replaces the
 * old one; the same token's lifetime, reported again, moves the deadline
 * only beyond the tolerance, so that a warning given for it stays given.
 */
export function deadlineAfterRefresh(stored: number | undefined, tokens: GrantedTokens): number | undefined {
  const reported = tokens.refreshTokenExpiresAt
  if (reported === undefined) return stored
  if (stored === undefined || tokens.refreshToken !== undefined) return reported
  return Math.abs(reported - stored) <= DEADLINE_TOLERANCE_MS ? stored : reported
}

/**
 * Whether a connected account's refresh token ends within
 * `EXPIRY_WARNING_MS` (or has ended, with no refresh failed yet to say so).
 */
export function isExpiring(account: Pick<Account, 'status' | 'refreshTokenExpiresAt'>, now: number): boolean {
  const deadline = account.refreshTokenExpiresAt
  return account.status === 'connected' && deadline !== undefined && now >= deadline - EXPIRY_WARNING_MS
}

/** Whether the admin must be warned now: expiring, and not yet warned for this deadline. */
export function isWarningDue(
  account: Pick<Account, 'status' | 'refreshTokenExpiresAt' | 'expiryWarnedFor'>,
  now: number,
): boolean {
  return isExpiring(account, now) && account.expiryWarnedFor !== account.refreshTokenExpiresAt
}
