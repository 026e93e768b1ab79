/**
 * The API keys of one process, wired once: the configured keys, the
 * verification the `/trpc` gate asks on every request, and the admin's use
 * cases, sharing what they must (a key made or revoked here drops the
 * cached origins at once; a configured key's last use is known here only).
 */
import type { ApiKeyStore } from '../../domain/api-keys/api-key.ts'
import type { Clock } from '../../domain/ports.ts'
import type { ApiKeyAdmin } from './admin.ts'
import { configuredKeys, type Sha256Hex } from './configured-keys.ts'
import { createApiKeyAdmin } from './key-admin.ts'
import { createKeyVerifier, type KeyVerifier } from './verify.ts'

export async function createApiKeys(deps: {
  /** `API_KEYS`: keys, or `sha256:<hex>` digests of keys. */
  configured: readonly string[]
  store: ApiKeyStore
  sha256Hex: Sha256Hex
  clock: Clock
  onTouchFailed?: (error: unknown) => void
}): Promise<{ admin: ApiKeyAdmin; verifier: KeyVerifier }> {
  const configured = await configuredKeys(deps.configured, {
    sha256Hex: deps.sha256Hex,
    readAt: deps.clock.now(),
  })
  const verifier = createKeyVerifier({
    configured,
    store: deps.store,
    sha256Hex: deps.sha256Hex,
    clock: deps.clock,
    ...(deps.onTouchFailed ? { onTouchFailed: deps.onTouchFailed } : {}),
  })
  const admin = createApiKeyAdmin({
    store: deps.store,
    configured,
    sha256Hex: deps.sha256Hex,
    clock: deps.clock,
    lastUsed: verifier.lastUsed,
    onChange: verifier.forgetOrigins,
  })
  return { admin, verifier }
}
