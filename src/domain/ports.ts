/**
 * The ports: what the application needs from the outside world. Adapters
 * implement them; tests swap in the fakes of `test/fakes`.
 */
import type { Account, GrantedTokens } from './credentials/account.ts'
import type { PacingLimits } from './delivery/pacing.ts'
import type { MailStatus, OutboxEntry } from './mail/record.ts'

/** The time, injected so that the domain and tests never read a real clock. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
}

/** Free space where the service stores its files (DATA_DIR), measured cheaply. */
export interface FreeSpacePort {
  /**
   * Bytes free for the service (statfs `bavail`), from a reading at most a
   * few hundred milliseconds old; `undefined` when it cannot be measured.
   */
  freeBytes(): Promise<number | undefined>
  /** Drops the cached reading, so that the next call measures again (after a write failed). */
  forget(): void
}

/** Gmail's `users.messages.send`, as one account. */
export interface GmailPort {
  /**
   * Sends one composed RFC 5322 message as `account`.
   * Throws `ServiceError` whose code says whether a retry can help
   * (`GMAIL_RATE_LIMITED`, `GMAIL_UNAVAILABLE`, `NETWORK` retryable;
   * `GMAIL_REJECTED` not; `REAUTHORIZATION_REQUIRED` when the refresh token died).
   */
  send(request: { account: string; raw: Uint8Array; threadId?: string }): Promise<{
    id: string
    threadId: string
  }>
}

/** Google's OAuth 2.0 endpoints for a server-side app with PKCE. */
export interface OAuthPort {
  /** A fresh PKCE pair (RFC 7636, S256). */
  createCodeVerifier(): Promise<{ codeVerifier: string; codeChallenge: string }>
  /** The authorization URL: offline access, consent forced, the service's scopes. */
  authorizationUrl(request: { state: string; codeChallenge: string; loginHint?: string }): string
  /** Exchanges an authorization code; throws `OAUTH_EXCHANGE_FAILED` on refusal. */
  exchangeCode(request: { code: string; codeVerifier: string }): Promise<GrantedTokens>
  /** The email of the account an access token belongs to (userinfo). */
  fetchAccountEmail(accessToken: string): Promise<string>
  /** Revokes a token at Google; a token Google no longer knows counts as revoked. */
  revoke(token: string): Promise<void>
}

/** Connected accounts and their (plaintext, in this interface) credentials. */
export interface AccountRepository {
  list(): Promise<Account[]>
  get(email: string): Promise<Account | undefined>
  /** Inserts or replaces the account, durably. */
  save(account: Account): Promise<void>
}

export interface OutboxPage {
  items: OutboxEntry[]
  nextCursor?: string
}

/**
 * The durable outbox: live messages, finished history, and raw bodies.
 * Every method that resolves has put its change on disk (fsync).
 */
export interface OutboxRepository {
  /** Stores new messages with their raw bodies, all or none. */
  accept(messages: Array<{ entry: OutboxEntry; raw: Uint8Array }>): Promise<void>
  /** Replaces the stored state of a message (status change, attempt, ...). */
  update(entry: OutboxEntry): Promise<void>
  get(id: string): Promise<OutboxEntry | undefined>
  /**
   * The raw composed message; throws `NOT_FOUND` when its body is gone and
   * `BODY_DAMAGED` when it differs from the entry's `size` and `bodySha256`.
   */
  readRaw(id: string): Promise<Uint8Array>
  /** Newest first. The cursor is opaque. */
  list(query: { status?: MailStatus; limit: number; cursor?: string }): Promise<OutboxPage>
  /** Every message not finished (queued, scheduled, sending, held), oldest first. */
  pending(): Promise<OutboxEntry[]>
  /** The message accepted with this idempotency key since `since` (epoch ms), if any. */
  findByIdempotencyKey(key: string, since: number): Promise<OutboxEntry | undefined>
  /** Epoch ms of every send by `account` since `since`, for the daily budget. */
  sentSince(account: string, since: number): Promise<number[]>
  countByStatus(): Promise<Record<MailStatus, number>>
}

/** A reservation of one send: when it may go, or why not today. */
export type SendReservation =
  | { granted: true /** Epoch ms when the send may go (the caller waits, outside the store). */; at: number }
  | { granted: false; reason: 'daily_limit' /** Epoch ms when to ask again. */; retryAt: number }

/**
 * Gmail's per-account send quota, shared by every process on one store: the
 * reservations of all replicas for one account together keep `perMinute`
 * (GCRA, burst included; see `delivery/gcra.ts`) and `perDay` (a rolling
 * 24 h), decided atomically with the store's clock. A reservation is never
 * held during the Gmail call: it only says when the send may go.
 */
export interface SendQuotaPort {
  /**
   * Reserves the next send of `messageId` as `account`. A granted slot counts
   * towards the daily budget at once (a message once: a retry of it is not
   * counted again); a refusal reserves nothing.
   */
  reserve(request: { account: string; messageId: string; limits: PacingLimits }): Promise<SendReservation>
  /** A 429's Retry-After: no reservation of `account` on any replica goes before `untilMs`. */
  block(account: string, untilMs: number, limits: PacingLimits): Promise<void>
  /** Sends counted for `account` in the last 24 h. */
  sentToday(account: string): Promise<number>
}
