/** Everything the emulator's routes share: its state and its settings. */
import type { ClientRegistry } from './clients.ts'
import type { FaultInjector } from './faults.ts'
import type { IdSource } from './ids.ts'
import type { Mailbox } from './mailbox.ts'
import type { OAuthState } from './oauth-state.ts'
import type { SendQuota } from './quota.ts'
import type { EmulatorStats, RefreshTokenLifetime } from './types.ts'

export interface EmulatorContext {
  now: () => number
  ids: IdSource
  clients: ClientRegistry
  oauth: OAuthState
  mailbox: Mailbox
  faults: FaultInjector
  quota: SendQuota
  stats: EmulatorStats
  rotateRefreshTokens: boolean
  /** The lifetime of refresh tokens consented to from now on; undefined: until revoked. */
  refreshTokenLifetime: RefreshTokenLifetime | undefined
}

export function emptyStats(): EmulatorStats {
  return {
    calls: { auth: 0, token: 0, userinfo: 0, revoke: 0, send: 0, upload: 0 },
    rateLimited: 0,
    faultsInjected: 0,
  }
}
