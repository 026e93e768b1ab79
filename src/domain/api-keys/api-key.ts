/**
 * API keys made at run time by the admin (`admin.keys.*`) or by
 * configuration (`API_KEYS`), and the scope that limits what one may do.
 * A key itself is shown once, at creation; stores keep its SHA-256 only.
 */

/** What a key may do; an absent field does not limit. See the contract's `KeyScope`. */
export interface KeyScope {
  /** tRPC paths (`mail.send`, …); default: every `mail.*` procedure and `accounts.list`. */
  procedures?: string[]
  /** Sending accounts (lower-case emails) this key may use. */
  from?: string[]
  /** `a@b.c` or `@b.c` (that exact domain); every to, cc and bcc must match one. */
  recipients?: string[]
  /** Browser origins (`https://shop.example`): CORS for them, any other `Origin` refused. */
  origins?: string[]
  /** This key's own request budget per minute. */
  ratePerMinute?: number
}

export type ApiKeySource = 'api' | 'config'

/** One key as stored: never the key, only its digest. */
export interface ApiKeyEntry {
  /** Stable, non-secret id (`key_…` for keys made by the API, `key-<digest prefix>` for configured ones). */
  id: string
  name: string
  /** SHA-256 of the key, lower-case hex. */
  digest: string
  scope: KeyScope
  source: ApiKeySource
  /** Epoch ms. */
  createdAt: number
  lastUsedAt?: number
  /** Epoch ms; a revoked key is refused everywhere at once. */
  revokedAt?: number
}

/**
 * The keys made at run time, shared by every process on one store: a key
 * revoked on one replica is refused by all on their next request (stores
 * answer `findByDigest` from the shared store, not from a cache that could
 * outlive a revocation). Keys made by configuration are not stored here.
 */
export interface ApiKeyStore {
  /** Stores a new key durably; its id and digest are unique. */
  create(entry: ApiKeyEntry): Promise<void>
  /** Every stored key, revoked ones included, oldest first. */
  list(): Promise<ApiKeyEntry[]>
  /** The key with this digest, revoked or not, or undefined. */
  findByDigest(digest: string): Promise<ApiKeyEntry | undefined>
  /** Marks the key revoked at `at` (kept, for the list); undefined when unknown. A second revoke keeps the first time. */
  revoke(id: string, at: number): Promise<ApiKeyEntry | undefined>
  /** Records that the key was used at `at` (best effort; callers throttle it). */
  touch(id: string, at: number): Promise<void>
}
