/**
 * The emulated authorization server's memory: consents, pending codes,
 * refresh and access tokens. Google's rules it keeps: a code is single-use
 * and lives 10 minutes; revoking any token of an account removes the app's
 * whole grant for that account (its consent and every token); at most 100
 * live refresh tokens per client and account, the oldest dropped first.
 * (developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke,
 * developers.google.com/identity/protocols/oauth2#expiration)
 */
import type { IdSource } from './ids.ts'
import type { RefreshTokenLifetime } from './types.ts'

export const CODE_LIFETIME_MS = 10 * 60 * 1000
export const REFRESH_TOKENS_PER_GRANT = 100

export interface PendingCode {
  clientId: string
  redirectUri: string
  codeChallenge: string
  email: string
  scopes: string[]
  /** Whether the exchange returns a refresh token (offline access and a consent screen shown). */
  refreshDue: boolean
  /** How long that refresh token lives, decided at the consent; absent: until revoked. */
  lifetime?: RefreshTokenLifetime
  expiresAt: number
}

export interface ConsentRecord {
  clientId: string
  email: string
  grantedAt: number
}

export interface RefreshGrant {
  token: string
  clientId: string
  email: string
  scopes: string[]
  issuedAt: number
  /** Epoch ms from which the token is refused (`invalid_grant`); absent: until revoked. */
  expiresAt?: number
  /** Whether token answers tell its remaining lifetime (`refresh_token_expires_in`). */
  announced?: boolean
}

export interface AccessGrant {
  token: string
  clientId: string
  email: string
  scopes: string[]
  expiresAt: number
}

export interface OAuthSnapshot {
  consents: ConsentRecord[]
  refreshTokens: RefreshGrant[]
  accessTokens: AccessGrant[]
}

const grantKey = (clientId: string, email: string): string => `${clientId}\u0000${email}`

export class OAuthState {
  readonly #now: () => number
  readonly #ids: IdSource
  readonly #accessTokenTtlMs: number
  readonly #onChange: () => void
  #consents = new Map<string, ConsentRecord>()
  #codes = new Map<string, PendingCode>()
  #refreshTokens = new Map<string, RefreshGrant>()
  #accessTokens = new Map<string, AccessGrant>()

  /** `onChange` hears of every change to consents and tokens (not to pending codes), so they can be stored. */
  constructor(
    now: () => number,
    ids: IdSource,
    accessTokenTtlSeconds: number,
    onChange: () => void = () => {},
  ) {
    this.#now = now
    this.#ids = ids
    this.#accessTokenTtlMs = accessTokenTtlSeconds * 1000
    this.#onChange = onChange
  }

  get accessTokenTtlSeconds(): number {
    return this.#accessTokenTtlMs / 1000
  }

  hasConsent(clientId: string, email: string): boolean {
    return this.#consents.has(grantKey(clientId, email))
  }

  recordConsent(clientId: string, email: string): void {
    const key = grantKey(clientId, email)
    if (this.#consents.has(key)) return
    this.#consents.set(key, { clientId, email, grantedAt: this.#now() })
    this.#onChange()
  }

  issueCode(code: Omit<PendingCode, 'expiresAt'>): string {
    const value = this.#ids.authorizationCode()
    this.#codes.set(value, { ...code, expiresAt: this.#now() + CODE_LIFETIME_MS })
    return value
  }

  /** Removes the code whatever happens next (single use); `undefined` when unknown or expired. */
  takeCode(code: string): PendingCode | undefined {
    const pending = this.#codes.get(code)
    this.#codes.delete(code)
    if (pending === undefined || pending.expiresAt <= this.#now()) return undefined
    return pending
  }

  issueRefreshToken(
    clientId: string,
    email: string,
    scopes: string[],
    lifetime?: RefreshTokenLifetime,
  ): RefreshGrant {
    this.recordConsent(clientId, email)
    const issuedAt = this.#now()
    const grant: RefreshGrant = { token: this.#ids.refreshToken(), clientId, email, scopes, issuedAt }
    if (lifetime !== undefined) {
      grant.expiresAt = issuedAt + lifetime.seconds * 1000
      grant.announced = lifetime.announced
    }
    this.#refreshTokens.set(grant.token, grant)
    this.#dropOldestRefreshTokens(clientId, email)
    this.#onChange()
    return grant
  }

  /** The grant of a refresh token when known and not expired (Google: `Token has been expired or revoked.`). */
  refreshGrant(token: string): RefreshGrant | undefined {
    const grant = this.#refreshTokens.get(token)
    return grant !== undefined && this.#live(grant) ? grant : undefined
  }

  /** Replaces a refresh token by a new one with the same grant (and deadline); the old one stops working. */
  rotateRefreshToken(old: RefreshGrant): RefreshGrant {
    this.#refreshTokens.delete(old.token)
    const fresh: RefreshGrant = { ...old, token: this.#ids.refreshToken(), issuedAt: this.#now() }
    this.#refreshTokens.set(fresh.token, fresh)
    this.#onChange()
    return fresh
  }

  issueAccessToken(grant: Omit<AccessGrant, 'token' | 'expiresAt'>): AccessGrant {
    if (this.#accessTokens.size >= 10_000) this.#sweepExpiredAccessTokens()
    const access: AccessGrant = {
      ...grant,
      token: this.#ids.accessToken(),
      expiresAt: this.#now() + this.#accessTokenTtlMs,
    }
    this.#accessTokens.set(access.token, access)
    this.#onChange()
    return access
  }

  /** The access token when known and not expired. */
  liveAccessToken(token: string): AccessGrant | undefined {
    const access = this.#accessTokens.get(token)
    return access !== undefined && access.expiresAt > this.#now() ? access : undefined
  }

  /**
   * Revokes a refresh token or a live access token, and with it the app's
   * whole grant for that account. `false` when the token is unknown.
   */
  revokeToken(token: string): boolean {
    const owner = this.refreshGrant(token) ?? this.liveAccessToken(token)
    if (owner === undefined) return false
    this.#removeWhere((grant) => grant.clientId === owner.clientId && grant.email === owner.email)
    this.#onChange()
    return true
  }

  revokeAccount(email: string): void {
    const account = email.trim().toLowerCase()
    this.#removeWhere((grant) => grant.email === account)
    this.#onChange()
  }

  expireAccessTokens(): void {
    const now = this.#now()
    for (const access of this.#accessTokens.values()) access.expiresAt = Math.min(access.expiresAt, now)
    this.#onChange()
  }

  clear(): void {
    this.#forget()
    this.#onChange()
  }

  snapshot(): OAuthSnapshot {
    return structuredClone({
      consents: [...this.#consents.values()],
      refreshTokens: [...this.#refreshTokens.values()].filter((grant) => this.#live(grant)),
      accessTokens: [...this.#accessTokens.values()].filter((access) => access.expiresAt > this.#now()),
    })
  }

  /** Replaces consents and tokens (from storage: no change to report); pending codes are dropped. */
  restore(snapshot: OAuthSnapshot): void {
    this.#forget()
    const copy = structuredClone(snapshot)
    for (const consent of copy.consents)
      this.#consents.set(grantKey(consent.clientId, consent.email), consent)
    for (const grant of copy.refreshTokens) this.#refreshTokens.set(grant.token, grant)
    for (const access of copy.accessTokens) this.#accessTokens.set(access.token, access)
  }

  #live(grant: RefreshGrant): boolean {
    return grant.expiresAt === undefined || grant.expiresAt > this.#now()
  }

  #forget(): void {
    this.#consents.clear()
    this.#codes.clear()
    this.#refreshTokens.clear()
    this.#accessTokens.clear()
  }

  #removeWhere(matches: (grant: { clientId: string; email: string }) => boolean): void {
    for (const [key, consent] of this.#consents) if (matches(consent)) this.#consents.delete(key)
    for (const [token, grant] of this.#refreshTokens) if (matches(grant)) this.#refreshTokens.delete(token)
    for (const [token, access] of this.#accessTokens) if (matches(access)) this.#accessTokens.delete(token)
  }

  #dropOldestRefreshTokens(clientId: string, email: string): void {
    // Map iteration follows insertion order: the first ones found are the oldest.
    const owned = [...this.#refreshTokens.values()].filter(
      (g) => g.clientId === clientId && g.email === email,
    )
    for (const stale of owned.slice(0, Math.max(0, owned.length - REFRESH_TOKENS_PER_GRANT))) {
      this.#refreshTokens.delete(stale.token)
    }
  }

  #sweepExpiredAccessTokens(): void {
    const now = this.#now()
    for (const [token, access] of this.#accessTokens)
      if (access.expiresAt <= now) this.#accessTokens.delete(token)
  }
}
