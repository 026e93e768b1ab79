/**
 * The keys of `API_KEYS` as key entries: made by configuration, full
 * access (no scope), listed but not revocable from the API (the operator
 * removes one from `API_KEYS` and restarts). An entry is a key, or
 * `sha256:<hex>`, the key's digest, so that the configuration need not hold
 * the key itself. Their id, `key-<first 8 hex digits of the digest>`, is the
 * label the service always gave them, so that rate budgets and logs keep it.
 */
import type { ApiKeyEntry } from '../../domain/api-keys/api-key.ts'

export type Sha256Hex = (text: string) => Promise<string>

export async function configuredKeys(
  entries: readonly string[],
  options: { sha256Hex: Sha256Hex; readAt: number },
): Promise<ApiKeyEntry[]> {
  const keys: ApiKeyEntry[] = []
  for (const [index, entry] of entries.entries()) {
    const digest = entry.startsWith('sha256:') ? entry.slice(7).toLowerCase() : await options.sha256Hex(entry)
    // The same key listed twice is one key.
    if (keys.some((known) => known.digest === digest)) continue
    keys.push({
      id: `key-${digest.slice(0, 8)}`,
      name: `API_KEYS key ${index + 1}`,
      digest,
      scope: {},
      source: 'config',
      // There is no creation time in an environment variable: when this process read it.
      createdAt: options.readAt,
    })
  }
  return keys
}
