/**
 * The admin's API keys (`admin.keys.*` and the console's keys page): make
 * one (shown once, stored as its SHA-256 only), list them (configured ones
 * first, never a key or a digest), revoke one (refused at once by every
 * replica, since each reads the shared store on every request).
 */
import { z } from 'zod'
import type { ApiKeyEntry, ApiKeyStore, KeyScope } from '../../domain/api-keys/api-key.ts'
import { keyScopeSchema } from '../../domain/api-keys/scope-schema.ts'
import { badRequest, ServiceError } from '../../domain/errors.ts'
import { encodeBase64Url } from '../../domain/mime/base64.ts'
import type { Clock } from '../../domain/ports.ts'
import type { ApiKeyAdmin } from './admin.ts'
import type { Sha256Hex } from './configured-keys.ts'
import { toKeyView } from './key-view.ts'

/** Recognisable in source code and by secret scanners: `gms_` then 32 random bytes, base64url. */
export const KEY_PREFIX = 'gms_'
const KEY_BYTES = 32
const ID_BYTES = 12

/** A key's name: what the admin reads in the list. */
export const keyNameSchema = z
  .string()
  .trim()
  .min(1, 'A key needs a name')
  .max(100, 'At most 100 characters')
  .refine((name) => !/[\x00-\x1f\x7f]/.test(name), 'No control characters')

export interface ApiKeyAdminDeps {
  store: ApiKeyStore
  configured: readonly ApiKeyEntry[]
  sha256Hex: Sha256Hex
  clock: Clock
  /** Random bytes (default: WebCrypto's). */
  randomBytes?: (length: number) => Uint8Array
  /** When this process last saw a configured key used. */
  lastUsed?: (id: string) => number | undefined
  /** A key was made or revoked here (the verifier drops its cached origins). */
  onChange?: () => void
}

/** The scope and name of a request, checked; BAD_REQUEST naming each offending field. */
function checkRequest(request: { name: string; scope?: KeyScope }): { name: string; scope: KeyScope } {
  const parsed = z.strictObject({ name: keyNameSchema, scope: keyScopeSchema.optional() }).safeParse(request)
  if (parsed.success) return { name: parsed.data.name, scope: parsed.data.scope ?? {} }
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }))
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
  throw badRequest(`The key was not made: ${summary.slice(0, 3).join('; ')}`, issues)
}

export function createApiKeyAdmin(deps: ApiKeyAdminDeps): ApiKeyAdmin {
  const { store, configured, clock } = deps
  const randomBytes = deps.randomBytes ?? ((length: number) => crypto.getRandomValues(new Uint8Array(length)))
  const configuredView = (entry: ApiKeyEntry) => toKeyView(entry, deps.lastUsed?.(entry.id))

  return {
    async create(request) {
      const { name, scope } = checkRequest(request)
      const key = `${KEY_PREFIX}${encodeBase64Url(randomBytes(KEY_BYTES))}`
      const entry: ApiKeyEntry = {
        id: `key_${encodeBase64Url(randomBytes(ID_BYTES))}`,
        name,
        digest: await deps.sha256Hex(key),
        scope,
        source: 'api',
        createdAt: clock.now(),
      }
      await store.create(entry)
      deps.onChange?.()
      return { ...toKeyView(entry), key }
    },

    async list() {
      return [...configured.map(configuredView), ...(await store.list()).map((entry) => toKeyView(entry))]
    },

    async revoke(id) {
      const fromConfig = configured.find((entry) => entry.id === id)
      if (fromConfig !== undefined) {
        throw badRequest(
          `The key ${JSON.stringify(id)} comes from API_KEYS: remove it there and restart to revoke it`,
          [{ path: 'id', message: 'A configured key' }],
        )
      }
      const revoked = await store.revoke(id, clock.now())
      if (revoked === undefined)
        throw new ServiceError('NOT_FOUND', `No API key has the id ${JSON.stringify(id)}`)
      deps.onChange?.()
      return toKeyView(revoked)
    },
  }
}
