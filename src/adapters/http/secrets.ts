/**
 * Checks of presented secrets (API keys, the admin token) in constant time,
 * through SHA-256 digests so that lengths leak nothing either.
 */
import { createHash } from 'node:crypto'
import { configuredKeys } from '../../app/api-keys/configured-keys.ts'
import { createKeyVerifier, type KeyVerifier } from '../../app/api-keys/verify.ts'

/**
 * SHA-256 in hex. Synchronous `node:crypto` (Node and Deno alike) on purpose:
 * WebCrypto's digest is a job on the thread pool that the outbox's fsyncs keep
 * busy, and this runs on every API call.
 */
export async function sha256Hex(value: string): Promise<string> {
  return createHash('sha256').update(value, 'utf8').digest('hex')
}

export { constantTimeEqual } from '../../app/api-keys/constant-time.ts'

/** What the `/trpc` gate asks of the keys (see `app/api-keys/verify.ts`). */
export type ApiKeyCheck = KeyVerifier

/**
 * The configured keys alone (`API_KEYS`: keys, or `sha256:<hex>` digests of
 * keys, so that the configuration need not hold the keys themselves), for
 * an app without a key store; the service itself uses `createApiKeys`.
 */
export async function createApiKeyCheck(entries: string[]): Promise<ApiKeyCheck> {
  const clock = { now: () => Date.now() }
  return createKeyVerifier({
    configured: await configuredKeys(entries, { sha256Hex, readAt: clock.now() }),
    sha256Hex,
    clock,
  })
}

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}
