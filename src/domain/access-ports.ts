/**
 * The ports of who may come in, shared by every process on one store: OAuth
 * logins in progress, admin sign-outs, and each API key's request budget.
 * Re-exported by `ports.ts`, where the rest of the ports are.
 */

/** An OAuth login started and not yet finished: what its callback needs. */
export interface PendingAuthorization {
  /** The PKCE verifier (RFC 7636) of the login: a secret until the code is exchanged. */
  codeVerifier: string
  /** Epoch ms when the login started. */
  createdAt: number
  loginHint?: string
}

/**
 * The OAuth `state` of logins in progress (RFC 9700 §4.7), shared by every
 * process on one store: a login started on one replica finishes on any.
 * A state is single use across all of them: of concurrent takes of one
 * state, at most one gets its login. Stores keep the state's SHA-256, never
 * the state, and the verifier sealed; they drop expired logins on their
 * own, and keep a bounded number (the oldest dropped first).
 */
export interface AuthorizationStates {
  /** Remembers the login started with `state` until `expiresAt` (epoch ms). */
  put(state: string, pending: PendingAuthorization, expiresAt: number): Promise<void>
  /**
   * Spends `state`, whatever comes next: its login when it was put, not yet
   * taken and not expired at `now` (epoch ms), else undefined.
   */
  take(state: string, now: number): Promise<PendingAuthorization | undefined>
}

/**
 * Admin sessions signed out before their expiry, remembered until then, by
 * every process on one store: a session signed out on one replica is
 * refused by all. Stores keep the session's SHA-256, never the session.
 */
export interface SignOuts {
  /** Remembers that `session` ended, until `expiresAt`; forgets sign-outs expired at `now`. */
  add(session: string, expiresAt: number, now: number): Promise<void>
  /** Whether `session` was signed out (and has not expired since: callers check expiry first). */
  has(session: string): Promise<boolean>
}

/**
 * The request budget of each API key (a token bucket, GCRA on a shared
 * store): `perMinute` units a minute with bursts up to `burst`, one budget
 * per key for every process on one store, decided atomically. `key` is the
 * key's id (a digest prefix), never the key.
 */
export interface RequestBudget {
  /**
   * Takes `cost` units (default 1): 0 when allowed (then they are taken),
   * else the ms to wait (then nothing is taken). A cost above the burst
   * passes from a full bucket and leaves it in debt, so that no request is
   * refused for ever.
   */
  take(key: string, cost?: number, own?: BudgetLimits): Promise<number>
  /**
   * Charges `extra` more units to a request already admitted with `paid`
   * units, as if `paid + extra` had been asked at once: 0 when allowed, else
   * the ms to wait (nothing more is taken).
   */
  extend(key: string, extra: number, paid: number, own?: BudgetLimits): Promise<number>
}

/**
 * A key's own limits (its scope's `ratePerMinute`), used instead of the
 * budget's default for that key; the same key is always charged with the
 * same limits.
 */
export interface BudgetLimits {
  perMinute: number
  burst?: number
}
