/**
 * Refresh tokens that die on time: an app in Testing (7 days after consent,
 * said nowhere in the answers) and time-based access chosen on the consent
 * screen (told as `refresh_token_expires_in`). What the options, the
 * control API and the consent page accept.
 * https://developers.google.com/identity/protocols/oauth2#expiration
 */
import type { RefreshTokenLifetime } from './types.ts'

/** The longest time-based access a consent may choose: Google offers hours to days; a year is room enough. */
export const MAX_ACCESS_SECONDS = 366 * 86_400

/** The choices of the consent page's "Access" list: seconds, and what the user reads. */
export const ACCESS_CHOICES: ReadonlyArray<{ seconds: number; label: string }> = [
  { seconds: 3_600, label: 'For 1 hour' },
  { seconds: 86_400, label: 'For 1 day' },
  { seconds: 7 * 86_400, label: 'For 7 days' },
]

/** A valid time-based access choice: a whole number of seconds, at most `MAX_ACCESS_SECONDS`. */
export function isAccessSeconds(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && value <= MAX_ACCESS_SECONDS
}

/** A copy of a lifetime of whole seconds, at least one; throws a RangeError otherwise. */
export function checkedLifetime(
  lifetime: RefreshTokenLifetime | undefined,
): RefreshTokenLifetime | undefined {
  if (lifetime === undefined) return undefined
  if (!(Number.isSafeInteger(lifetime.seconds) && lifetime.seconds > 0))
    throw new RangeError('refreshTokenLifetime.seconds must be a positive integer')
  return { seconds: lifetime.seconds, announced: lifetime.announced === true }
}
