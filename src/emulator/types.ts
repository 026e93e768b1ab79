/**
 * Public types of the built-in Google emulator (OAuth 2.0 + Gmail send),
 * re-exported by `emulator.ts`.
 */
import type { Hono } from 'hono'
import type { MailboxLimits } from './mailbox.ts'
import type { MessageSummary } from './mime-summary.ts'

/** An OAuth client the emulator knows, as registered in a Google Cloud project. */
export interface EmulatedClient {
  clientId: string
  clientSecret: string
  /** When given, `redirect_uri` must equal one of these exactly (Google compares byte for byte). */
  redirectUris?: string[]
}

/** How long refresh tokens live from their issue, for consents given from now on. */
export interface RefreshTokenLifetime {
  seconds: number
  /**
   * true: a time-limited grant (Google's time-based access), which the token
   * answers say (`refresh_token_expires_in`); false: an app in Testing,
   * whose tokens simply stop working (7 days, `TESTING_APP_LIFETIME`).
   */
  announced: boolean
}

/** Google's rule for an app whose publishing status is Testing: refresh tokens die 7 days after consent. */
export const TESTING_APP_LIFETIME: RefreshTokenLifetime = { seconds: 7 * 86_400, announced: false }

/** What the user chose on the consent screen beyond Allow. */
export interface ConsentChoice {
  /** Time-based access: the grant ends after this many seconds, and the token answers say so. */
  accessSeconds?: number
}

export interface GoogleEmulatorOptions {
  /** Epoch milliseconds; default `Date.now`. */
  clock?: { now(): number }
  /** Lifetime of access tokens; default 3599 like Google. */
  accessTokenTtlSeconds?: number
  /** When true every refresh returns a new refresh_token and the old one stops working. */
  rotateRefreshTokens?: boolean
  /**
   * Refresh tokens die this long after they are issued (a refresh then
   * answers `invalid_grant`); default never. `TESTING_APP_LIFETIME` plays
   * an app in Testing. A consent's own time-based access wins over it.
   */
  refreshTokenLifetime?: RefreshTokenLifetime
  /** When absent any client id/secret is accepted. */
  clients?: EmulatedClient[]
  /** Token and id generation; default `crypto.randomUUID`-based. */
  random?: () => string
  /** What the mailbox keeps in memory; default the newest 1000 messages and 64 MiB (`DEFAULT_MAILBOX_LIMITS`). */
  mailboxLimits?: MailboxLimits
  /**
   * Called after every change to consents or tokens (`control.exportGrants()`
   * then holds it). The emulator's HTTP answers wait for the promise it
   * returns, so a grant is stored before its caller hears of it.
   */
  onGrantsChange?: () => Promise<void>
}

/** The emulated Google endpoints, as fault and statistics keys. */
export type EmulatorEndpoint = 'auth' | 'token' | 'userinfo' | 'revoke' | 'send' | 'upload'

export const EMULATOR_ENDPOINTS: readonly EmulatorEndpoint[] = [
  'auth',
  'token',
  'userinfo',
  'revoke',
  'send',
  'upload',
]

/** A failure the emulator plays instead of (or around) a normal answer. */
export type Fault =
  /** A Google-style error body with this status (429 and others carry Retry-After when given). */
  | { kind: 'status'; status: number; reason?: string; retryAfterSeconds?: number }
  /** The connection is destroyed before answering; a message is NOT stored. */
  | { kind: 'reset' }
  /** The request is carried out (a message is stored), then the connection is destroyed. */
  | { kind: 'reset-after-send' }
  /** The answer comes after this many milliseconds (real time). */
  | { kind: 'delay'; ms: number }

/** A message that reached the emulated Gmail, as the sender's Sent folder holds it. */
export interface ReceivedMessage extends Omit<MessageSummary, 'from'> {
  id: string
  threadId: string
  /** Lower-case email of the authorized account that sent it. */
  account: string
  /** The RFC 5322 message exactly as received (Bcc kept, as in Gmail's Sent copy). */
  raw: Uint8Array
  /** Epoch ms. */
  receivedAt: number
  via: 'json' | 'media' | 'multipart'
  /** Address of the From header; the account when there is none. */
  from: string
  /** Bytes of `raw`. */
  size: number
}

export interface EmulatorStats {
  calls: Record<EmulatorEndpoint, number>
  /** Requests refused by the per-user quota (not counting injected 429s). */
  rateLimited: number
  faultsInjected: number
}

export interface FaultRate {
  probability: number
  faults: Fault[]
  random?: () => number
}

/** What tests and the admin console drive the emulator with. */
export interface EmulatorControl {
  /** Newest first; only what the mailbox keeps (see `mailboxRetention`). */
  mailbox(): ReceivedMessage[]
  message(id: string): ReceivedMessage | undefined
  /** How many messages and bytes the mailbox keeps, and how many older ones it dropped since it was emptied. */
  mailboxRetention(): { messages: number; bytes: number; dropped: number }
  clearMailbox(): void
  /** Queued, consumed one per request of that endpoint, in order. */
  injectFaults(endpoint: EmulatorEndpoint, faults: Fault[]): void
  /** Each request fails with that probability, picking a fault from the list; `undefined` clears. */
  setFaultRate(endpoint: EmulatorEndpoint, rate: FaultRate | undefined): void
  /** Per user, sliding 60 s window over send + upload; over it: 429 userRateLimitExceeded with Retry-After. */
  setQuota(quota: { sendsPerMinute: number } | undefined): void
  /** All its refresh and access tokens die (refresh gives invalid_grant, the API 401). */
  revokeAccount(email: string): void
  /** Every access token expires now (refresh still works). */
  expireAccessTokens(): void
  /** The lifetime of refresh tokens issued from now on (`undefined`: they live until revoked). */
  setRefreshTokenLifetime(lifetime: RefreshTokenLifetime | undefined): void
  /**
   * Runs the consent decision (Allow) for an authorization URL without a
   * browser; resolves to the redirect URL (`redirect_uri?code=..&state=..`).
   * Rejects when the request is invalid.
   */
  approveConsent(authorizationUrl: string, email: string, choice?: ConsentChoice): Promise<string>
  stats(): EmulatorStats
  /** Forgets everything: grants, mailbox, faults, quota, statistics. */
  reset(): void
  /** Consents and tokens, to keep connected accounts across restarts. */
  exportGrants(): unknown
  /** Replaces consents and tokens with exported ones; throws on malformed data. */
  importGrants(data: unknown): void
}

export interface GoogleEmulator {
  app: Hono
  control: EmulatorControl
}
