/** A key as the admin sees it: never the key, never its digest. */
import type { ApiKeyEntry } from '../../domain/api-keys/api-key.ts'
import type { ApiKeyView } from './admin.ts'

const iso = (ms: number) => new Date(ms).toISOString()

export function toKeyView(entry: ApiKeyEntry, lastUsedAt = entry.lastUsedAt): ApiKeyView {
  const view: ApiKeyView = {
    id: entry.id,
    name: entry.name,
    scope: structuredClone(entry.scope),
    source: entry.source,
    createdAt: iso(entry.createdAt),
  }
  if (lastUsedAt !== undefined) view.lastUsedAt = iso(lastUsedAt)
  if (entry.revokedAt !== undefined) view.revokedAt = iso(entry.revokedAt)
  return view
}
