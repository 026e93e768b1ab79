/**
 * Checks of presented secrets (API keys, the admin token) in constant time,
 * through SHA-256 digests so that lengths leak nothing either.
 */
import { createHash } from 'node:crypto'

/**
 * SHA-256 in hex. Synchronous `node:crypto` (Node and Deno alike) on purpose:
 * WebCrypto's digest is a job on the thread pool that the outbox's fsyncs keep
 * busy, and this runs on every API call.
 */
export async function sha256Hex(value: string): Promise<string> {
  return createHash('sha256').update(value, 'utf8').digest('hex')
}

/** Equal strings of hex digits, compared without early exit. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let index = 0; index < a.length; index++) difference |= a.charCodeAt(index) ^ b.charCodeAt(index)
  return difference === 0
}

export interface ApiKeyCheck {
  /** The id of the matching key (a short digest prefix), or undefined. */
  verify(presented: string): Promise<string | undefined>
}

/**
 * `API_KEYS` entries are keys, or `sha256:<hex>` digests of keys (so the
 * configuration need not hold the keys themselves).
 */
export async function createApiKeyCheck(entries: string[]): Promise<ApiKeyCheck> {
  const digests = await Promise.all(
    entries.map(async (entry) =>
      entry.startsWith('sha256:') ? entry.slice(7).toLowerCase() : await sha256Hex(entry),
    ),
  )
  return {
    async verify(presented) {
      const digest = await sha256Hex(presented)
      let match: string | undefined
      for (const known of digests) if (constantTimeEqual(known, digest)) match = known
      return match === undefined ? undefined : `key-${match.slice(0, 8)}`
    },
  }
}

/** Reads `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}
