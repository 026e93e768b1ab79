/**
 * The admin's use cases for API keys (`admin.keys.*` and the console's
 * keys page call the same ones).
 */
import type { ApiKeySource, KeyScope } from '../../domain/api-keys/api-key.ts'

/** A key as listed: never the key, never its digest. */
export interface ApiKeyView {
  id: string
  name: string
  scope: KeyScope
  source: ApiKeySource
  createdAt: string
  lastUsedAt?: string
  revokedAt?: string
}

export interface ApiKeyAdmin {
  /** Makes a key; the answer is the only place the key is ever shown. */
  create(request: { name: string; scope?: KeyScope }): Promise<ApiKeyView & { key: string }>
  /** Configured keys first, then the stored ones, oldest first. */
  list(): Promise<ApiKeyView[]>
  /** Throws NOT_FOUND for an unknown id, BAD_REQUEST for a configured key (revoked by changing API_KEYS). */
  revoke(id: string): Promise<ApiKeyView>
}
