/**
 * The admin's authorization of a Google account: the start (`/oauth/login`)
 * and the callback (`/oauth/callback`), with single-use, expiring `state`
 * bound to the browser, and PKCE (RFC 7636). A failure changes no stored
 * credential. See RFC 9700 §2.1 and §4.7. Logins in progress live in
 * `AuthorizationStates`, so that one started on a replica finishes on any.
 */
import { decideCallback } from '../domain/credentials/callback.ts'
import { ServiceError } from '../domain/errors.ts'
import type { AuthorizationStates, Clock, OAuthPort, PendingAuthorization } from '../domain/ports.ts'
import type { AccountService } from './accounts.ts'
import type { Logger } from './logger.ts'

/** How long a started authorization may take (the contract's 10 minutes). */
export const STATE_LIFETIME_MS = 10 * 60_000

export interface StartedAuthorization {
  url: string
  /** Goes to the browser as a cookie, and to Google as `state`. */
  state: string
}

export interface CallbackQuery {
  state?: string | undefined
  code?: string | undefined
  error?: string | undefined
  /** The state cookie the browser brought back. */
  cookieState?: string | undefined
}

export type CallbackResult =
  | { kind: 'connected'; email: string; reconnected: boolean; released: number }
  | { kind: 'consent_required'; url: string; state: string }
  | {
      kind: 'failed'
      code: 'OAUTH_DENIED' | 'OAUTH_STATE_INVALID' | 'OAUTH_EXCHANGE_FAILED' | 'OAUTH_SCOPE_MISSING'
      message: string
      loginHint?: string
    }

export interface Authorization {
  start(options: { loginHint?: string }): Promise<StartedAuthorization>
  complete(query: CallbackQuery): Promise<CallbackResult>
}

export function createAuthorization(deps: {
  oauth: OAuthPort
  accounts: AccountService
  clock: Clock
  logger: Logger
  /** Logins in progress: in memory for one process, in the database for a fleet. */
  states: AuthorizationStates
  newState: () => string
  /** Sends held mail once an account is connected again; returns how many. */
  onConnected: (email: string) => Promise<number>
  /** The Google app is in Testing (`GOOGLE_APP_TESTING`): each consent's refresh token dies 7 days later. */
  appTesting?: boolean
}): Authorization {
  const start = async (options: { loginHint?: string }): Promise<StartedAuthorization> => {
    const now = deps.clock.now()
    const { codeVerifier, codeChallenge } = await deps.oauth.createCodeVerifier()
    const state = deps.newState()
    const item: PendingAuthorization = { codeVerifier, createdAt: now }
    const request: { state: string; codeChallenge: string; loginHint?: string } = { state, codeChallenge }
    if (options.loginHint !== undefined) {
      item.loginHint = options.loginHint
      request.loginHint = options.loginHint
    }
    await deps.states.put(state, item, now + STATE_LIFETIME_MS)
    return { url: deps.oauth.authorizationUrl(request), state }
  }

  return {
    start,

    async complete(query) {
      const now = deps.clock.now()
      // Single use: whatever happens next, this state is spent (on every replica).
      const item = query.state === undefined ? undefined : await deps.states.take(query.state, now)
      const stateOk =
        item !== undefined && query.cookieState !== undefined && query.cookieState === query.state
      if (!stateOk) {
        return {
          kind: 'failed',
          code: 'OAUTH_STATE_INVALID',
          message:
            'This sign-in link is not valid: it was already used, is older than 10 minutes, or was started in another browser',
        }
      }
      const hint = item.loginHint === undefined ? {} : { loginHint: item.loginHint }
      if (query.error !== undefined) {
        const denied = query.error === 'access_denied'
        return {
          kind: 'failed',
          code: 'OAUTH_DENIED',
          message: denied
            ? 'Access was denied on Google’s consent screen; nothing was changed'
            : `Google answered with the error ${JSON.stringify(query.error.slice(0, 100))}; nothing was changed`,
          ...hint,
        }
      }
      if (query.code === undefined || query.code.length === 0) {
        return {
          kind: 'failed',
          code: 'OAUTH_EXCHANGE_FAILED',
          message: 'Google sent no authorization code',
          ...hint,
        }
      }
      try {
        const granted = await deps.oauth.exchangeCode({ code: query.code, codeVerifier: item.codeVerifier })
        const email = (await deps.oauth.fetchAccountEmail(granted.accessToken)).toLowerCase()
        const all = await deps.accounts.list()
        const existing = all.find((account) => account.email === email)
        const decision = decideCallback({
          email,
          granted,
          ...(existing ? { existing } : {}),
          hasOtherAccounts: all.some((account) => account.email !== email && account.status !== 'revoked'),
          appTesting: deps.appTesting ?? false,
          now,
        })
        if (decision.kind === 'scope_missing') {
          return {
            kind: 'failed',
            code: 'OAUTH_SCOPE_MISSING',
            message:
              'Google did not grant permission to send mail; allow “Send email on your behalf” and try again',
            loginHint: email,
          }
        }
        if (decision.kind === 'consent_required') {
          const again = await start({ loginHint: email })
          return { kind: 'consent_required', url: again.url, state: again.state }
        }
        await deps.accounts.save(decision.account)
        const deadline = decision.account.refreshTokenExpiresAt
        deps.logger.info('Account connected', {
          account: email,
          reconnected: decision.reconnected,
          ...(deadline === undefined ? {} : { accessEndsAt: new Date(deadline).toISOString() }),
        })
        const released = await deps.onConnected(email)
        return { kind: 'connected', email, reconnected: decision.reconnected, released }
      } catch (caught) {
        const message =
          caught instanceof ServiceError
            ? caught.message
            : 'The authorization code could not be exchanged with Google'
        deps.logger.warn('Authorization failed', {
          code: caught instanceof ServiceError ? caught.code : 'INTERNAL',
        })
        return { kind: 'failed', code: 'OAUTH_EXCHANGE_FAILED', message, ...hint }
      }
    },
  }
}
