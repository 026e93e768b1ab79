/**
 * The account-repository contract on the in-memory fake, the lowdb files
 * (real files in a temp dir) and PostgreSQL; and on PostgreSQL what only
 * its rows can show: the sealed columns, a damaged row refused by name, a
 * driver failure reported as a ServiceError.
 */
import type pg from 'pg'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openAccountRepository } from '../../src/adapters/lowdb/account-store.ts'
import { createTokenCipher } from '../../src/adapters/lowdb/token-cipher.ts'
import { postgresAccounts } from '../../src/adapters/postgres/account-repository.ts'
import { connectPostgres, openPostgres } from '../../src/adapters/postgres/connect.ts'
import { migrate } from '../../src/adapters/postgres/migrate.ts'
import type { Account } from '../../src/domain/credentials/account.ts'
import { makeTempDir, textUnder } from '../adapters/lowdb/fixtures.ts'
import { memoryAccounts } from '../fakes/repositories.ts'
import { describePostgres, useTestDatabase } from '../support/postgres.ts'
import { accountRepositoryContract } from './account-repository.contract.ts'

describe('the in-memory accounts (fake)', () => {
  accountRepositoryContract(
    async () => {
      const fake = memoryAccounts()
      return { open: async () => fake }
    },
    { durable: false },
  )
})

describe('the lowdb accounts (accounts.json)', () => {
  accountRepositoryContract(
    async () => {
      const dataDir = await makeTempDir()
      return {
        open: (cipher) => openAccountRepository({ dataDir, cipher }),
        async rawText() {
          return await textUnder(dataDir)
        },
      }
    },
    { durable: true },
  )
})

const cipher = createTokenCipher([new Uint8Array(32).fill(3)])
const ann: Account = {
  email: 'ann@example.com',
  status: 'connected',
  scopes: ['https://www.googleapis.com/auth/gmail.send'],
  isDefault: true,
  connectedAt: Date.UTC(2026, 4, 10),
  refreshToken: '1//refresh-ann',
  accessToken: 'ya29.access-ann',
  accessTokenExpiresAt: Date.UTC(2026, 4, 10, 1),
}

describePostgres('the PostgreSQL accounts', () => {
  const db = useTestDatabase()
  const pools: pg.Pool[] = []
  beforeAll(async () => {
    await migrate(db.pool)
  })
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()))
  })

  accountRepositoryContract(
    async () => {
      await db.pool.query('TRUNCATE accounts')
      return {
        // Each open is another pool: what a restarted replica, or another one, sees.
        async open(cipher) {
          const pool = await connectPostgres(db.url, { max: 2 })
          pools.push(pool)
          return postgresAccounts(pool, cipher)
        },
        async rawText() {
          const { rows } = await db.pool.query(`SELECT row_to_json(a)::text AS row FROM accounts a`)
          return rows.map((row) => row.row).join('\n')
        },
      }
    },
    { durable: true },
  )

  describe('rows', () => {
    it('stores each token in the sealed text form only, in its own column', async () => {
      await db.pool.query('TRUNCATE accounts')
      await postgresAccounts(db.pool, cipher).save(ann)
      const { rows } = await db.pool.query(
        `SELECT sealed_refresh_token, sealed_access_token, is_default,
          access_token_expires_at = '2026-05-10T01:00:00Z'::timestamptz AS expiry_kept FROM accounts`,
      )
      const sealed = /^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
      expect(rows).toEqual([
        {
          sealed_refresh_token: expect.stringMatching(sealed),
          sealed_access_token: expect.stringMatching(sealed),
          is_default: true,
          expiry_kept: true,
        },
      ])
    })

    it('keeps the deadline and the warning as timestamptz; a new warning is one account.expiring event', async () => {
      await db.pool.query('TRUNCATE accounts, webhook_endpoints, webhook_events, webhook_deliveries')
      // One subscribed endpoint: without any, the trigger stores nothing at all.
      await db.pool.query(
        `INSERT INTO webhook_endpoints (id, url, events, sealed_secret, created_at)
         VALUES ('wh_test', 'http://127.0.0.1:9/hook', '{account.expiring}', 'sealed', now())`,
      )
      const accounts = postgresAccounts(db.pool, cipher)
      const deadline = Date.UTC(2026, 4, 17, 9, 30, 0, 123)
      await accounts.save({ ...ann, refreshTokenExpiresAt: deadline })
      await accounts.save({ ...ann, refreshTokenExpiresAt: deadline, expiryWarnedFor: deadline })
      // Saved again (another replica's watcher, a refresh): no second event.
      await accounts.save({ ...ann, refreshTokenExpiresAt: deadline, expiryWarnedFor: deadline })
      const { rows } = await db.pool.query(
        `SELECT refresh_token_expires_at = '2026-05-17T09:30:00.123Z'::timestamptz AS deadline_kept,
           expiry_warned_for = refresh_token_expires_at AS warned FROM accounts`,
      )
      expect(rows).toEqual([{ deadline_kept: true, warned: true }])
      const events = await db.pool.query(`SELECT type, data FROM webhook_events`)
      expect(events.rows).toEqual([
        {
          type: 'account.expiring',
          data: expect.objectContaining({
            email: 'ann@example.com',
            status: 'connected',
            expiresAt: '2026-05-17T09:30:00.123Z',
          }),
        },
      ])
    })

    it('refuses a row of the wrong shape with a sentence naming the account and the column', async () => {
      await db.pool.query('TRUNCATE accounts')
      const accounts = postgresAccounts(db.pool, cipher)
      await accounts.save(ann)
      await db.pool.query(`UPDATE accounts SET last_error = '{"code": 7}' WHERE email = 'ann@example.com'`)
      const expected = {
        code: 'STORAGE',
        message:
          'The stored account "ann@example.com" in the database does not have the expected shape (last_error)',
      }
      await expect(accounts.get('ann@example.com')).rejects.toMatchObject(expected)
      await expect(accounts.list()).rejects.toMatchObject(expected)
    })

    it('refuses a token that is not sealed, naming the account and which token, never the value', async () => {
      await db.pool.query('TRUNCATE accounts')
      const accounts = postgresAccounts(db.pool, cipher)
      await accounts.save(ann)
      await db.pool.query(`UPDATE accounts SET sealed_refresh_token = '1//plain-refresh'`)
      const failure = await accounts.get('ann@example.com').catch((error: Error) => error)
      expect(failure).toMatchObject({
        code: 'STORAGE',
        message:
          'A stored token is not in the sealed format (the refresh token of the account "ann@example.com")',
      })
      expect((failure as Error).message).not.toContain('plain-refresh')
    })

    it('refuses a token moved to another account (it is sealed to its own)', async () => {
      await db.pool.query('TRUNCATE accounts')
      const accounts = postgresAccounts(db.pool, cipher)
      await accounts.save(ann)
      await accounts.save({ ...ann, email: 'bob@example.com', isDefault: false })
      await db.pool.query(
        `UPDATE accounts SET sealed_access_token = (SELECT sealed_access_token FROM accounts WHERE email = 'ann@example.com')
         WHERE email = 'bob@example.com'`,
      )
      await expect(accounts.get('bob@example.com')).rejects.toMatchObject({
        code: 'STORAGE',
        message:
          'A stored token failed its integrity check (the access token of the account "bob@example.com")',
      })
    })
  })

  describe('driver failures', () => {
    it('answers SERVICE_UNAVAILABLE, naming host and port, when the database cannot be reached', async () => {
      const pool = openPostgres('postgres://postgres:pw-secret@127.0.0.1:1/nowhere', {
        connectTimeoutMs: 2_000,
      })
      pools.push(pool)
      const accounts = postgresAccounts(pool, cipher)
      for (const call of [() => accounts.get('ann@example.com'), () => accounts.save(ann)]) {
        const failure = await call().catch((error: Error) => error)
        expect(failure).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true })
        expect((failure as Error).message).toContain('127.0.0.1:1/nowhere')
        expect((failure as Error).message).not.toContain('pw-secret')
      }
    })

    it('answers STORAGE with the action for any other database error (no schema here)', async () => {
      const pool = openPostgres(await db.another())
      pools.push(pool)
      await expect(postgresAccounts(pool, cipher).list()).rejects.toMatchObject({
        code: 'STORAGE',
        message: 'Could not list the accounts in the database',
      })
      await expect(postgresAccounts(pool, cipher).save(ann)).rejects.toMatchObject({
        code: 'STORAGE',
        message: 'Could not store the account "ann@example.com" in the database',
      })
    })
  })
})
