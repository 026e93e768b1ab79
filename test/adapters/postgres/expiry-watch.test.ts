/**
 * The expiry watch of two replicas on one PostgreSQL: both look at the
 * same moment, and the warning is one `account.expiring` event, written by
 * the accounts' trigger in the transaction of the save that records it.
 */
import type pg from 'pg'
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { postgresAccounts } from '../../../src/adapters/postgres/account-repository.ts'
import { connectPostgres } from '../../../src/adapters/postgres/connect.ts'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { createAccountService } from '../../../src/app/accounts.ts'
import { createExpiryWatch } from '../../../src/app/expiry-watch.ts'
import { silentLogger } from '../../../src/app/logger.ts'
import type { Account } from '../../../src/domain/credentials/account.ts'
import { manualTime } from '../../fakes/clock.ts'
import { fakeOAuth, SEND_SCOPES } from '../../fakes/oauth.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'

const cipher = createTokenCipher([new Uint8Array(32).fill(5)])
const day = 86_400_000

describePostgres('the expiry watch on PostgreSQL', () => {
  const db = useTestDatabase()
  const pools: pg.Pool[] = []
  beforeAll(async () => {
    await migrate(db.pool)
  })
  beforeEach(async () => {
    await db.pool.query('TRUNCATE accounts, webhook_deliveries, webhook_events, webhook_endpoints CASCADE')
    await db.pool.query(
      `INSERT INTO webhook_endpoints (id, url, events, sealed_secret, created_at)
       VALUES ('wh_expiring', 'http://127.0.0.1:9/hook', '{account.expiring}', 'sealed', now())`,
    )
  })
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()))
  })

  /** One replica: its own pool, account service and watch, on the shared clock. */
  async function replica(time: ReturnType<typeof manualTime>) {
    const pool = await connectPostgres(db.url, { max: 2 })
    pools.push(pool)
    const accounts = createAccountService({
      accounts: postgresAccounts(pool, cipher),
      oauth: fakeOAuth(),
      clock: time,
      logger: silentLogger,
      listener: { connected() {}, reauthorizationRequired() {}, disconnected() {} },
    })
    return {
      accounts,
      watch: createExpiryWatch({ accounts, clock: time, scheduler: time, logger: silentLogger }),
    }
  }

  it('records the warning once and writes one account.expiring when two replicas look at once', async () => {
    const time = manualTime(Date.UTC(2026, 4, 10, 9))
    const deadline = time.now() + 7 * day
    const account: Account = {
      email: 'support@example.com',
      status: 'connected',
      scopes: SEND_SCOPES,
      isDefault: true,
      connectedAt: time.now(),
      refreshToken: '1//refresh',
      refreshTokenExpiresAt: deadline,
    }
    await postgresAccounts(db.pool, cipher).save(account)
    const [a, b] = [await replica(time), await replica(time)]

    await time.advance(6 * day - 60_000)
    expect([...(await a.watch.check()), ...(await b.watch.check())]).toEqual([])
    await time.advance(2 * 60_000)
    const warned = (await Promise.all([a.watch.check(), b.watch.check()])).flat()
    expect(warned.length).toBeGreaterThan(0)
    expect(await a.watch.check()).toEqual([])
    expect(await b.watch.check()).toEqual([])

    expect((await a.accounts.get('support@example.com'))?.expiryWarnedFor).toBe(deadline)
    const { rows } = await db.pool.query(`SELECT type, data FROM webhook_events`)
    expect(rows).toEqual([
      {
        type: 'account.expiring',
        data: expect.objectContaining({
          email: 'support@example.com',
          expiresAt: new Date(deadline).toISOString(),
        }),
      },
    ])
  })
})
