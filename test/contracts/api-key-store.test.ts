/**
 * The api-key-store contract on the in-memory fake, the lowdb file (real
 * files in a temp dir) and PostgreSQL; and per store what only it can show:
 * the file's permissions and its refusal when damaged (lowdb); on
 * PostgreSQL, a revocation by one replica seen by another at its next
 * lookup, one indexed statement per lookup, a damaged row refused by name,
 * driver failures as ServiceErrors.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type pg from 'pg'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { API_KEYS_FILE, openApiKeyStore } from '../../src/adapters/lowdb/api-key-store.ts'
import { postgresApiKeys } from '../../src/adapters/postgres/api-keys.ts'
import { connectPostgres, openPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import { sha256Hex } from '../../src/app/input-hash.ts'
import type { ApiKeyEntry } from '../../src/domain/api-keys/api-key.ts'
import { makeTempDir, modeOf, textUnder } from '../adapters/lowdb/fixtures.ts'
import { memoryApiKeyStore } from '../fakes/api-keys.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { apiKeyStoreContract } from './api-key-store.contract.ts'

const T = Date.UTC(2026, 4, 10, 12, 0, 0)

async function entry(id: string): Promise<ApiKeyEntry> {
  return {
    id,
    name: `Key ${id}`,
    digest: await sha256Hex(new TextEncoder().encode(id)),
    scope: { procedures: ['mail.send'] },
    source: 'api',
    createdAt: T,
  }
}

describe('the in-memory API keys (fake)', () => {
  apiKeyStoreContract(
    async () => {
      const fake = memoryApiKeyStore()
      return { open: async () => fake }
    },
    { durable: false },
  )
})

describe(`the lowdb API keys (${API_KEYS_FILE})`, () => {
  apiKeyStoreContract(
    async () => {
      const dataDir = await makeTempDir()
      return {
        open: () => openApiKeyStore({ dataDir }),
        async rawText() {
          return await textUnder(dataDir)
        },
      }
    },
    { durable: true },
  )

  it('writes the file owner-only, in an owner-only folder', async () => {
    const dataDir = await makeTempDir()
    await (await openApiKeyStore({ dataDir })).create(await entry('key_a'))
    expect(await modeOf(join(dataDir, API_KEYS_FILE))).toBe(0o600)
    expect(await modeOf(dataDir)).toBe(0o700)
  })

  it('refuses a damaged file on open with one sentence naming it, never reading it as "no keys"', async () => {
    const dataDir = await makeTempDir()
    const path = join(dataDir, API_KEYS_FILE)
    const refusal = (message: string) => ({ code: 'STORAGE', message })
    await writeFile(path, '{"version":1,"keys":[')
    await expect(openApiKeyStore({ dataDir })).rejects.toMatchObject(
      refusal('The store file api-keys.json is not valid JSON'),
    )
    const shape = refusal('The store file api-keys.json does not have the expected shape')
    await writeFile(
      path,
      JSON.stringify({ version: 1, keys: [{ ...(await entry('key_a')), digest: 'plain' }] }),
    )
    await expect(openApiKeyStore({ dataDir })).rejects.toMatchObject(shape)
    // A scope restriction this version does not know: refused, not dropped (the key would do more).
    const unknownRule = { ...(await entry('key_a')), scope: { procedures: ['mail.send'], weekdays: [1] } }
    await writeFile(path, JSON.stringify({ version: 1, keys: [unknownRule] }))
    await expect(openApiKeyStore({ dataDir })).rejects.toMatchObject(shape)
    const twice = await entry('key_a')
    await writeFile(path, JSON.stringify({ version: 1, keys: [twice, { ...twice, id: 'key_b' }] }))
    await expect(openApiKeyStore({ dataDir })).rejects.toMatchObject(shape)
  })
})

describePostgres('the PostgreSQL API keys', () => {
  const db = useTestDatabase()
  const pools: pg.Pool[] = []
  const newPool = async () => {
    const pool = await connectPostgres(db.url, { max: 2 })
    pools.push(pool)
    return pool
  }
  beforeAll(async () => {
    await migrate(db.pool)
  })
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()))
  })

  apiKeyStoreContract(
    async () => {
      await db.pool.query('TRUNCATE api_keys')
      return {
        // Each open is another pool: what a restarted replica, or another one, sees.
        open: async () => postgresApiKeys(await newPool()),
        async rawText() {
          const { rows } = await db.pool.query(`SELECT row_to_json(k)::text AS row FROM api_keys k`)
          return rows.map((row) => row.row).join('\n')
        },
      }
    },
    { durable: true },
  )

  describe('two replicas', () => {
    it('a key revoked through one replica is refused by the other at its very next lookup', async () => {
      await db.pool.query('TRUNCATE api_keys')
      const one = postgresApiKeys(await newPool())
      const two = postgresApiKeys(await newPool())
      const made = await entry('key_shared')
      await one.create(made)
      expect(await two.findByDigest(made.digest)).toStrictEqual(made)
      await two.revoke('key_shared', T + 1)
      expect(await one.findByDigest(made.digest)).toMatchObject({ revokedAt: T + 1 })
    })

    it('looks a key up with one statement, by the unique index on the digest', async () => {
      await db.pool.query('TRUNCATE api_keys')
      const statements: string[] = []
      const counting = new Proxy(db.pool, {
        get(target, property, receiver) {
          if (property !== 'query') return Reflect.get(target, property, receiver)
          return (text: string, values?: unknown[]) => {
            statements.push(text)
            return target.query(text, values)
          }
        },
      })
      const keys = postgresApiKeys(counting)
      const made = await entry('key_looked_up')
      await keys.create(made)
      statements.length = 0
      for (let i = 0; i < 3; i++) expect(await keys.findByDigest(made.digest)).toStrictEqual(made)
      expect(statements).toHaveLength(3)
      const { rows } = await db.pool.query(
        `SELECT indexdef FROM pg_indexes WHERE tablename = 'api_keys' AND indexdef LIKE 'CREATE UNIQUE INDEX%(digest)'`,
      )
      expect(rows).toHaveLength(1)
    })
  })

  describe('rows', () => {
    it('refuses a row of the wrong shape with a sentence naming the key and the column', async () => {
      await db.pool.query('TRUNCATE api_keys')
      const keys = postgresApiKeys(db.pool)
      const made = await entry('key_damaged')
      await keys.create(made)
      await db.pool.query(`UPDATE api_keys SET scope = '{"procedures": "mail.send"}'`)
      const expected = {
        code: 'STORAGE',
        message: 'The stored API key "key_damaged" in the database does not have the expected shape (scope)',
      }
      await expect(keys.findByDigest(made.digest)).rejects.toMatchObject(expected)
      await expect(keys.list()).rejects.toMatchObject(expected)
    })

    it('has the messages table carry the id of the key that accepted each one', async () => {
      const { rows } = await db.pool.query(
        `SELECT data_type FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'api_key_id'`,
      )
      expect(rows).toEqual([{ data_type: 'text' }])
    })
  })

  describe('driver failures', () => {
    it('answers SERVICE_UNAVAILABLE, naming host and port, when the database cannot be reached', async () => {
      const pool = openPostgres('postgres://postgres:pw-secret@127.0.0.1:1/nowhere', {
        connectTimeoutMs: 2_000,
      })
      pools.push(pool)
      const keys = postgresApiKeys(pool)
      const made = await entry('key_x')
      for (const call of [() => keys.findByDigest(made.digest), () => keys.create(made)]) {
        const failure = await call().catch((error: Error) => error)
        expect(failure).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true })
        expect((failure as Error).message).toContain('127.0.0.1:1/nowhere')
        expect((failure as Error).message).not.toContain('pw-secret')
      }
    })

    it('answers STORAGE with the action for any other database error (no schema here)', async () => {
      const pool = openPostgres(await db.another())
      pools.push(pool)
      const keys = postgresApiKeys(pool)
      await expect(keys.list()).rejects.toMatchObject({
        code: 'STORAGE',
        message: 'The service could not list the API keys in the database',
      })
      await expect(keys.create(await entry('key_y'))).rejects.toMatchObject({
        code: 'STORAGE',
        message: 'The service could not store the API key in the database',
      })
    })
  })
})
