/**
 * The OpenID Connect userinfo request that tells which Google account an
 * access token belongs to (scopes `openid email`).
 * https://developers.google.com/identity/openid-connect/openid-connect#obtaininguserprofileinformation
 */
import { z } from 'zod'
import { ServiceError } from '../../domain/errors.ts'

const UserInfo = z.object({ email: z.string().trim().min(3).max(320).includes('@') })

/** GETs `userinfoUrl` with the bearer token and returns the lower-case email. */
export async function fetchUserInfoEmail(
  userinfoUrl: string,
  accessToken: string,
  options: { timeoutMs: number },
): Promise<string> {
  let response: Response
  try {
    response = await fetch(userinfoUrl, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs),
    })
  } catch {
    throw new ServiceError('NETWORK', "Could not reach Google's userinfo endpoint", { retryable: true })
  }
  if (!response.ok) {
    await response.body?.cancel()
    const retryable = response.status >= 500 || response.status === 429
    throw new ServiceError(
      'OAUTH_EXCHANGE_FAILED',
      `Google's userinfo endpoint answered ${response.status}`,
      {
        retryable,
      },
    )
  }
  const parsed = UserInfo.safeParse(await response.json().catch(() => undefined))
  if (!parsed.success) {
    throw new ServiceError('OAUTH_EXCHANGE_FAILED', "Google's userinfo answer has no email address")
  }
  return parsed.data.email.toLowerCase()
}
