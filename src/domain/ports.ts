/**
 * The ports: what the application needs from the outside world. Adapters
 * implement them; tests swap in the fakes of `test/fakes`.
 */
import type { Account, GrantedTokens } from './credentials/account.ts'
import type { PacingLimits } from './delivery/pacing.ts'
import type { MailStatus, OutboxEntry } from './mail/record.ts'
import type { MailEvent } from './mail/transition.ts'

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

/**
 * A stored message body read as it is sent (a message composed from
 * uploads, too large to hold in memory): its length, and a fresh pass over
 * its bytes for each attempt. A pass over a damaged body throws
 * `BODY_DAMAGED` before its last chunk.
 */
export interface MessageStream {
  size: number
  open(): AsyncIterable<Uint8Array>
}

/** Gmail's `users.messages.send`, as one account. */
export interface GmailPort {
  /**
   * Sends one composed RFC 5322 message as `account`: its bytes, or a
   * stream of them (sent by media upload, never held whole).
   * Throws `ServiceError` whose code says whether a retry can help
   * (`GMAIL_RATE_LIMITED`, `GMAIL_UNAVAILABLE`, `NETWORK` retryable;
   * `GMAIL_REJECTED` not; `REAUTHORIZATION_REQUIRED` when the refresh token died).
   */
  send(request: { account: string; raw: Uint8Array | MessageStream; threadId?: string }): Promise<{
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

/**
 * Connected accounts and their (plaintext, in this interface) credentials.
 * Emails are keys in lower case: `get` finds an account whatever the case
 * asked, `save` stores the email lower-cased. Stores keep tokens sealed,
 * never in clear. The contract suite (test/contracts/account-repository.contract.ts)
 * holds the fake, lowdb and PostgreSQL to the same rules.
 */
export interface AccountRepository {
  /** Every account, ordered by email. */
  list(): Promise<Account[]>
  get(email: string): Promise<Account | undefined>
  /**
   * Inserts or replaces the account, durably. Saving a default account
   * takes the flag from any other in the same atomic step: at most one
   * account is ever the default.
   */
  save(account: Account): Promise<void>
}

export interface OutboxPage {
  items: OutboxEntry[]
  nextCursor?: string
}

/** What acceptance did with one message: stored it, or found it already accepted under its idempotency key. */
export interface AcceptResult {
  /** The stored message: the new one, or the earlier one with the same key (`replayed`). */
  entry: OutboxEntry
  replayed: boolean
}

/**
 * The durable outbox: live messages, finished history, and raw bodies.
 * Every method that resolves has put its change on disk (fsync), or in
 * PostgreSQL committed it.
 */
export interface OutboxRepository {
  /**
   * Stores new messages with their raw bodies, all or none, in one atomic
   * step with their idempotency keys: a message whose `idempotencyKey` was
   * accepted at or after `idempotencySince` (epoch ms) is not stored again;
   * its result is the earlier message (`replayed`) when the `inputHash`
   * matches, and the whole call throws CONFLICT (nothing stored) when it
   * does not. Keys are unique on the store, not by a lock in one process:
   * two replicas racing with one key make one message. The messages given
   * carry distinct keys (the caller folds repeats within one call).
   */
  accept(
    messages: Array<{ entry: OutboxEntry; raw: Uint8Array }>,
    options?: { idempotencySince?: number },
  ): Promise<AcceptResult[]>
  /** Replaces the stored state of a message (status change, attempt, ...). */
  update(entry: OutboxEntry): Promise<void>
  get(id: string): Promise<OutboxEntry | undefined>
  /**
   * The raw composed message; throws `NOT_FOUND` when its body is gone and
   * `BODY_DAMAGED` when it differs from the entry's `size` and `bodySha256`.
   */
  readRaw(id: string): Promise<Uint8Array>
  /** Newest first. The cursor is opaque. `apiKeyId`: only the messages that key accepted. */
  list(query: { status?: MailStatus; limit: number; cursor?: string; apiKeyId?: string }): Promise<OutboxPage>
  /** Every message not finished (queued, scheduled, sending, held), oldest first. */
  pending(): Promise<OutboxEntry[]>
  /** The message accepted with this idempotency key since `since` (epoch ms), if any. */
  findByIdempotencyKey(key: string, since: number): Promise<OutboxEntry | undefined>
  /** Epoch ms of every send by `account` since `since`, for the daily budget. */
  sentSince(account: string, since: number): Promise<number[]>
  countByStatus(): Promise<Record<MailStatus, number>>
  /**
   * Milliseconds, by the store's clock, since the oldest message still on
   * its way out became due (`domain/mail/overdue.ts`); 0 when none is.
   * Cheap enough for every metrics scrape.
   */
  oldestDueAge(): Promise<number>
}

/** When an account's next message becomes claimable. */
export interface AccountWork {
  account: string
  /** Epoch ms by the store's clock; at or before `now` means work is due. */
  nextAt: number
}

/**
 * Claims: how many replicas share one outbox. A replica claims due messages
 * with a lease, renews it while it works, and records the outcome only
 * while it still holds the claim; a lease not renewed (a replica killed)
 * expires and the message is claimable again. Every change goes through the
 * domain's `transition` (`domain/mail/transition.ts`) under the message's
 * lock; `now` is the store's clock (PostgreSQL's `now()`), one for the
 * fleet. The contract suite (test/contracts/outbox.contract.ts) holds the
 * fakes, lowdb and PostgreSQL to the same rules.
 */
export interface OutboxClaims {
  /** The store's clock, epoch ms. */
  now(): Promise<number>
  /**
   * Claims up to `limit` claimable messages of `account` for `owner`
   * (`domain/mail/claim.ts` `isClaimable`), oldest acceptance first, skipping
   * any another replica is claiming at that moment; each is moved by the
   * `lease` event (status `sending`, one more attempt, `claim` =
   * `{ owner, until: now + leaseMs }`) and returned as stored.
   */
  claimDue(request: {
    owner: string
    account: string
    leaseMs: number
    limit: number
  }): Promise<OutboxEntry[]>
  /** Extends `owner`'s leases on `ids` to now + leaseMs; returns the ids it no longer holds. */
  renew(request: { owner: string; ids: readonly string[]; leaseMs: number }): Promise<string[]>
  /**
   * Applies `event` (an outcome: sent, retryLater, holdAfterFailure, fail,
   * unlease) to message `id` only if `owner` still holds its claim; returns
   * the stored result, or undefined when the claim was lost (taken over
   * after its lease expired) and nothing was written.
   */
  settle(request: { owner: string; id: string; event: MailEvent }): Promise<OutboxEntry | undefined>
  /**
   * Applies `decide(stored, now)`'s event to message `id` atomically;
   * `decide` returns undefined to leave it as it is. Throws NOT_FOUND for
   * an unknown id, and the domain's refusal (nothing written) for a move the
   * table does not allow. Resolves with the stored message.
   */
  change(
    id: string,
    decide: (stored: OutboxEntry, now: number) => MailEvent | undefined,
  ): Promise<OutboxEntry>
  /**
   * Applies `decide` to every message of `account` in one of `statuses`,
   * oldest first, each atomically; returns the messages it changed.
   */
  changeAccount(
    account: string,
    statuses: readonly MailStatus[],
    decide: (stored: OutboxEntry, now: number) => MailEvent | undefined,
  ): Promise<OutboxEntry[]>
  /**
   * Per account with live work not held: when its next message becomes
   * claimable (a due time, or an expiring lease). For waking the engine.
   */
  upcoming(): Promise<AccountWork[]>
}

/**
 * News between the replicas of one store, for low latency only: a listener
 * may miss some (a pooler drops notifications), so the engine also polls.
 */
export interface FleetSignals {
  /** Tells every replica, this one included, that `topic` changed. */
  publish(topic: 'mail' | 'accounts', detail?: string): Promise<void>
  /** Returns the unsubscribe function. */
  subscribe(listener: (topic: 'mail' | 'accounts', detail: string | undefined) => void): () => void
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
   * counted again); a refusal reserves nothing. Reservations of one account
   * asked while others are under way are granted in the order asked.
   */
  reserve(request: { account: string; messageId: string; limits: PacingLimits }): Promise<SendReservation>
  /** A 429's Retry-After: no reservation of `account` on any replica goes before `untilMs`. */
  block(account: string, untilMs: number, limits: PacingLimits): Promise<void>
  /** Sends counted for `account` in the last 24 h. */
  sentToday(account: string): Promise<number>
}

export type {
  AuthorizationStates,
  BudgetLimits,
  PendingAuthorization,
  RequestBudget,
  SignOuts,
} from './access-ports.ts'

/**
 * Access-token refreshes of one account, one at a time for every process on
 * one store, so that the fleet asks Google once per expiry: `run` starts
 * `work` only when no other `run` for `account` is under way here or on
 * another replica, and resolves with what `work` gave. `work` reads the
 * account again first: a replica that waited finds the access token the
 * first one stored, still fresh, and uses it instead of refreshing.
 */
export interface RefreshCoordinator {
  run<T>(account: string, work: () => Promise<T>): Promise<T>
}
