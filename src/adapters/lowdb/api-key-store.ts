/**
 * API keys made at run time in `DATA_DIR/api-keys.json`, oldest first.
 * Only each key's SHA-256 is written, never the key (see
 * `domain/api-keys/stored-entry.ts`). Every change is on disk (temp file,
 * fsync, rename, folder fsync; owner-only) before it resolves, and the file
 * is checked against its shape on open: a damaged one stops the start with
 * a sentence naming it rather than being read as "no keys".
 *
 * lowdb mode is one process, so the copy in memory is the store: a
 * revocation is seen by the next request as soon as it is durable.
 */
import { join } from 'node:path'
import { Low } from 'lowdb'
import { z } from 'zod'
import type { ApiKeyEntry, ApiKeyStore } from '../../domain/api-keys/api-key.ts'
import { byCreation, checkNewApiKey, storedApiKeySchema } from '../../domain/api-keys/stored-entry.ts'
import { ServiceError } from '../../domain/errors.ts'
import { DurableJsonFile } from './durable-file.ts'
import { ensurePrivateDir } from './fs-durable.ts'
import { KeyedLocks } from './keyed-locks.ts'

export const API_KEYS_FILE = 'api-keys.json'

const apiKeysFileSchema = z.object({
  version: z.literal(1),
  keys: z.array(storedApiKeySchema),
})

type ApiKeysFile = z.infer<typeof apiKeysFileSchema>

/** Every change takes this one lock: the file is small and changes are rare. */
const FILE_LOCK = ['api-keys']

/** Opens (creating the folder if needed) the key store of `dataDir`. */
export async function openApiKeyStore(options: { dataDir: string }): Promise<ApiKeyStore> {
  await ensurePrivateDir(options.dataDir)
  const db = new Low<ApiKeysFile>(
    new DurableJsonFile(join(options.dataDir, API_KEYS_FILE), apiKeysFileSchema),
    { version: 1, keys: [] },
  )
  await db.read()
  const { keys } = db.data
  // A hand-edited file with a key twice would make findByDigest depend on order.
  if (
    new Set(keys.map((key) => key.id)).size !== keys.length ||
    new Set(keys.map((key) => key.digest)).size !== keys.length
  ) {
    throw new ServiceError('STORAGE', `The store file ${API_KEYS_FILE} does not have the expected shape`)
  }
  db.data.keys = byCreation(keys)
  const locks = new KeyedLocks()

  /** Replaces the key at `index` with `changed` and writes; the old one is put back if the write fails. */
  const replace = async (index: number, changed: ApiKeyEntry) => {
    const previous = db.data.keys[index]!
    db.data.keys[index] = changed
    try {
      await db.write()
    } catch (error) {
      if (db.data.keys[index] === changed) db.data.keys[index] = previous
      throw error
    }
  }

  return {
    create: (entry) =>
      locks.run(FILE_LOCK, async () => {
        const stored = checkNewApiKey(entry, {
          hasId: (id) => db.data.keys.some((key) => key.id === id),
          hasDigest: (digest) => db.data.keys.some((key) => key.digest === digest),
        })
        const before = db.data.keys
        db.data.keys = byCreation([...before, stored])
        try {
          await db.write()
        } catch (error) {
          db.data.keys = before
          throw error
        }
      }),

    async list() {
      return db.data.keys.map((entry) => structuredClone(entry))
    },

    async findByDigest(digest) {
      const found = db.data.keys.find((entry) => entry.digest === digest)
      return found === undefined ? undefined : structuredClone(found)
    },

    revoke: (id, at) =>
      locks.run(FILE_LOCK, async () => {
        const index = db.data.keys.findIndex((entry) => entry.id === id)
        const found = db.data.keys[index]
        if (found === undefined) return undefined
        if (found.revokedAt === undefined) await replace(index, { ...found, revokedAt: at })
        return structuredClone(db.data.keys[index]!)
      }),

    touch: (id, at) =>
      locks.run(FILE_LOCK, async () => {
        const index = db.data.keys.findIndex((entry) => entry.id === id)
        const found = db.data.keys[index]
        if (found === undefined || (found.lastUsedAt ?? Number.NEGATIVE_INFINITY) >= at) return
        await replace(index, { ...found, lastUsedAt: at })
      }),
  }
}
