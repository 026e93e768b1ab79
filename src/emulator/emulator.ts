/**
 * The built-in emulator of Google's OAuth 2.0 endpoints and Gmail's
 * `users.messages.send`, as a Hono app. Sandbox mode mounts it (at
 * `/_google`) and points the real google-auth-library and Gmail client at
 * it; `main.ts` (`npm run emulator`) and the integration tests serve it on
 * a loopback port of its own. State is in memory only; time comes from the
 * injected clock.
 */
import { Hono } from 'hono'
import { mountAuthorizationEndpoint } from './authorization-endpoint.ts'
import { createClientRegistry } from './clients.ts'
import { type EmulatorContext, emptyStats } from './context.ts'
import { createEmulatorControl } from './control.ts'
import { FaultInjector } from './faults.ts'
import { mountGmailSend } from './gmail-send.ts'
import { googleApiError } from './google-errors.ts'
import { createIdSource, defaultRandom } from './ids.ts'
import { Mailbox } from './mailbox.ts'
import { OAuthState } from './oauth-state.ts'
import { SendQuota } from './quota.ts'
import { checkedLifetime } from './refresh-lifetime.ts'
import { mountRevokeEndpoint } from './revoke-endpoint.ts'
import { mountTokenEndpoint } from './token-endpoint.ts'
import type { GoogleEmulator, GoogleEmulatorOptions } from './types.ts'
import { mountUserinfoEndpoint } from './userinfo-endpoint.ts'

export { AUTHORIZATION_PATH } from './authorization-endpoint.ts'
export { SANDBOX_BANNER } from './consent-page.ts'
export { SEND_PATH, UPLOAD_PATH } from './gmail-send.ts'
export { DEFAULT_MAILBOX_LIMITS, type MailboxLimits } from './mailbox.ts'
export { REVOKE_PATH } from './revoke-endpoint.ts'
export { TOKEN_PATH } from './token-endpoint.ts'
export type {
  ConsentChoice,
  EmulatedClient,
  EmulatorControl,
  EmulatorEndpoint,
  EmulatorStats,
  Fault,
  FaultRate,
  GoogleEmulator,
  GoogleEmulatorOptions,
  ReceivedMessage,
  RefreshTokenLifetime,
} from './types.ts'
export { EMULATOR_ENDPOINTS, TESTING_APP_LIFETIME } from './types.ts'
export { USERINFO_PATH } from './userinfo-endpoint.ts'

export function createGoogleEmulator(options: GoogleEmulatorOptions = {}): GoogleEmulator {
  const clock = options.clock ?? { now: () => Date.now() }
  const now = () => clock.now()
  const ids = createIdSource(options.random ?? defaultRandom)
  const ttl = options.accessTokenTtlSeconds ?? 3599
  if (!(Number.isInteger(ttl) && ttl > 0))
    throw new RangeError('accessTokenTtlSeconds must be a positive integer')
  // The latest write of the grants; a later one covers every earlier change.
  let grantsStored: Promise<void> = Promise.resolve()
  const onGrantsChange = options.onGrantsChange
  const grantsChanged = onGrantsChange === undefined ? undefined : () => (grantsStored = onGrantsChange())
  const context: EmulatorContext = {
    now,
    ids,
    clients: createClientRegistry(options.clients),
    oauth: new OAuthState(now, ids, ttl, grantsChanged),
    mailbox: new Mailbox(ids, options.mailboxLimits),
    faults: new FaultInjector(),
    quota: new SendQuota(now),
    stats: emptyStats(),
    rotateRefreshTokens: options.rotateRefreshTokens ?? false,
    refreshTokenLifetime: checkedLifetime(options.refreshTokenLifetime),
  }
  const app = new Hono()
  if (grantsChanged !== undefined) {
    app.use(async (_c, next) => {
      await next()
      await grantsStored
    })
  }
  mountAuthorizationEndpoint(app, context)
  mountTokenEndpoint(app, context)
  mountUserinfoEndpoint(app, context)
  mountRevokeEndpoint(app, context)
  mountGmailSend(app, context)
  // Never a stack or a token in the answer: Google says "Internal error" and nothing more.
  app.onError(() =>
    googleApiError({ status: 500, reason: 'backendError', message: 'Internal error encountered.' }),
  )
  return { app, control: createEmulatorControl(context) }
}
