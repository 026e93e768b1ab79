/**
 * Who presented this key: a configured key (`API_KEYS`, compared by digest
 * in constant time) or a stored one not revoked, found by its digest in the
 * shared store on every request (no cache that could outlive a revocation
 * made on another replica). And the origins of the keys not revoked, which
 * CORS preflights need before any key is shown.
 */
import type { ApiKeyEntry, ApiKeySource, ApiKeyStore, KeyScope } from '../../domain/api-keys/api-key.ts'
import type { Clock } from '../../domain/ports.ts'
import type { Sha256Hex } from './configured-keys.ts'
import { constantTimeEqual } from './constant-time.ts'

/** The key a request carried: what the gate and the use cases need, never the key. */
export interface VerifiedKey {
  id: string
  name: string
  source: ApiKeySource
  /** Empty for a full-access key. */
  scope: KeyScope
}

export interface KeyVerifier {
  /** The key `presented` is, or undefined for an unknown or revoked one. */
  verify(presented: string): Promise<VerifiedKey | undefined>
  /** The same, for a caller that already has the key's SHA-256 (hex): the gate, which compared it with the admin token's. */
  verifyDigest(digest: string): Promise<VerifiedKey | undefined>
  /** The origins of every key not revoked (for CORS), at most `originsTtlMs` old on another replica's changes. */
  origins(): Promise<ReadonlySet<string>>
  /** Drops the cached origins: this process made or revoked a key. */
  forgetOrigins(): void
  /** When this process last saw the key used (configured keys have no stored `lastUsedAt`). */
  lastUsed(id: string): number | undefined
}

export interface KeyVerifierDeps {
  configured: readonly ApiKeyEntry[]
  /** Absent: configured keys only. */
  store?: ApiKeyStore
  sha256Hex: Sha256Hex
  clock: Clock
  /** `lastUsedAt` is written at most this often per key by one process (default a minute). */
  touchEveryMs?: number
  /** How long the origins of the stored keys are reused (default 5 s). */
  originsTtlMs?: number
  /** A failed `touch` (best effort): for a log line. */
  onTouchFailed?: (error: unknown) => void
}

const verified = (entry: ApiKeyEntry): VerifiedKey => ({
  id: entry.id,
  name: entry.name,
  source: entry.source,
  scope: entry.scope,
})

export function createKeyVerifier(deps: KeyVerifierDeps): KeyVerifier {
  const { configured, store, clock } = deps
  const touchEveryMs = deps.touchEveryMs ?? 60_000
  const originsTtlMs = deps.originsTtlMs ?? 5_000
  const lastSeen = new Map<string, number>()
  const lastTouched = new Map<string, number>()
  let cachedOrigins: { at: number; origins: Promise<ReadonlySet<string>> } | undefined

  const seen = (entry: ApiKeyEntry) => {
    const now = clock.now()
    lastSeen.set(entry.id, now)
    if (store === undefined || entry.source !== 'api') return
    const touched = lastTouched.get(entry.id)
    if (touched !== undefined && now - touched < touchEveryMs) return
    lastTouched.set(entry.id, now)
    store.touch(entry.id, now).catch((error: unknown) => deps.onTouchFailed?.(error))
  }

  const loadOrigins = async (): Promise<ReadonlySet<string>> => {
    const origins = new Set<string>()
    for (const entry of (await store?.list()) ?? []) {
      if (entry.revokedAt === undefined) for (const origin of entry.scope.origins ?? []) origins.add(origin)
    }
    return origins
  }

  const verifyDigest = async (digest: string): Promise<VerifiedKey | undefined> => {
    let match: ApiKeyEntry | undefined
    // Every configured digest is compared, whichever matches.
    for (const entry of configured) if (constantTimeEqual(entry.digest, digest)) match = entry
    match ??= await store?.findByDigest(digest)
    if (match === undefined || match.revokedAt !== undefined) return undefined
    seen(match)
    return verified(match)
  }

  return {
    verify: async (presented) => verifyDigest(await deps.sha256Hex(presented)),
    verifyDigest,
    origins() {
      const now = clock.now()
      if (cachedOrigins === undefined || now - cachedOrigins.at >= originsTtlMs) {
        const origins = loadOrigins()
        cachedOrigins = { at: now, origins }
        // A failed read is not kept: the next preflight asks again.
        origins.catch(() => {
          if (cachedOrigins?.origins === origins) cachedOrigins = undefined
        })
      }
      return cachedOrigins.origins
    },
    forgetOrigins() {
      cachedOrigins = undefined
    },
    lastUsed: (id) => lastSeen.get(id),
  }
}
