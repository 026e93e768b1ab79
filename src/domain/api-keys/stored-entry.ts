/**
 * What every `ApiKeyStore` checks, whatever keeps the keys: the shape of a
 * stored entry (read back from a file or a row), and the refusals of
 * `create`, worded once so that every store answers alike.
 */
import { z } from 'zod'
import { ServiceError } from '../errors.ts'
import type { ApiKeyEntry, KeyScope } from './api-key.ts'

/** A SHA-256 in lower-case hex: what a store keeps instead of the key. */
const DIGEST = /^[0-9a-f]{64}$/

/**
 * A stored scope. Strict: a restriction this code does not know (written by
 * a newer version) refuses the entry, rather than being dropped and the key
 * quietly let do more than it was made for.
 */
export const storedKeyScopeSchema = z.strictObject({
  procedures: z.array(z.string()).exactOptional(),
  from: z.array(z.string()).exactOptional(),
  recipients: z.array(z.string()).exactOptional(),
  origins: z.array(z.string()).exactOptional(),
  ratePerMinute: z.number().exactOptional(),
}) satisfies z.ZodType<KeyScope>

/** One entry as a store keeps it: its digest, never the key. */
export const storedApiKeySchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  digest: z.string().regex(DIGEST),
  scope: storedKeyScopeSchema,
  source: z.enum(['api', 'config']),
  createdAt: z.number(),
  lastUsedAt: z.number().exactOptional(),
  revokedAt: z.number().exactOptional(),
}) satisfies z.ZodType<ApiKeyEntry>

/**
 * The entry as a store keeps it, or the refusal of one no store may keep:
 * a `digest` that is not a SHA-256 in lower-case hex (so that a key passed
 * by mistake is never written in its place), a field a store could not read
 * back (a file or row that would then stop the next start), or an id or
 * digest already stored (`existing` answers which).
 */
export function checkNewApiKey(
  entry: ApiKeyEntry,
  existing: { hasId(id: string): boolean; hasDigest(digest: string): boolean },
): ApiKeyEntry {
  if (!DIGEST.test(entry.digest)) throw digestRefused()
  // Through JSON first, as it will be written: undefined fields drop out.
  const parsed = storedApiKeySchema.safeParse(JSON.parse(JSON.stringify(entry)))
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'entry'))]
    throw new ServiceError(
      'INTERNAL',
      `The API key ${JSON.stringify(entry.id)} cannot be stored: unexpected ${fields.join(', ')}`,
      { cause: parsed.error },
    )
  }
  if (existing.hasId(entry.id)) throw duplicateId(entry.id)
  if (existing.hasDigest(entry.digest)) throw duplicateDigest()
  return parsed.data
}

export function digestRefused(): ServiceError {
  return new ServiceError(
    'INTERNAL',
    'An API key is stored by its SHA-256 digest (64 lower-case hex digits), never as itself',
  )
}

export function duplicateId(id: string): ServiceError {
  return new ServiceError('CONFLICT', `An API key with the id ${JSON.stringify(id)} already exists`)
}

export function duplicateDigest(): ServiceError {
  return new ServiceError('CONFLICT', 'An API key with the same digest already exists')
}

/** Oldest first; entries made in the same millisecond keep the order they were made in. */
export function byCreation<T extends Pick<ApiKeyEntry, 'createdAt'>>(entries: readonly T[]): T[] {
  return entries
    .map((entry, order) => ({ entry, order }))
    .sort((a, b) => a.entry.createdAt - b.entry.createdAt || a.order - b.order)
    .map(({ entry }) => entry)
}
