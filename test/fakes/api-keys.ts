/** API keys made at run time, in memory, to the api-key-store contract. */
import type { ApiKeyEntry, ApiKeyStore } from '../../src/domain/api-keys/api-key.ts'
import { byCreation, checkNewApiKey } from '../../src/domain/api-keys/stored-entry.ts'

/** An empty store, or one holding `initial`; `entries` is the live map, for tests that look inside. */
export function memoryApiKeyStore(initial: ApiKeyEntry[] = []): ApiKeyStore & {
  entries: Map<string, ApiKeyEntry>
} {
  const entries = new Map<string, ApiKeyEntry>()
  const existing = {
    hasId: (id: string) => entries.has(id),
    hasDigest: (digest: string) => [...entries.values()].some((entry) => entry.digest === digest),
  }
  const put = (entry: ApiKeyEntry) => {
    const stored = checkNewApiKey(entry, existing)
    entries.set(stored.id, stored)
  }
  for (const entry of initial) put(entry)
  return {
    entries,
    async create(entry) {
      put(entry)
    },
    async list() {
      return byCreation([...entries.values()]).map((entry) => structuredClone(entry))
    },
    async findByDigest(digest) {
      const found = [...entries.values()].find((entry) => entry.digest === digest)
      return found === undefined ? undefined : structuredClone(found)
    },
    async revoke(id, at) {
      const found = entries.get(id)
      if (found === undefined) return undefined
      found.revokedAt ??= at
      return structuredClone(found)
    },
    async touch(id, at) {
      const found = entries.get(id)
      if (found !== undefined) found.lastUsedAt = Math.max(found.lastUsedAt ?? at, at)
    },
  }
}
