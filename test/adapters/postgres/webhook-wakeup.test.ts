/**
 * The dispatcher hears of deliveries that another replica's change added:
 * the webhook triggers NOTIFY, `postgresSignals.onWebhooks` hears it, and
 * the delivery engines' listeners (`subscribe`) never see that topic.
 */
import { afterEach, beforeAll, expect, it } from 'vitest'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { postgresAccounts } from '../../../src/adapters/postgres/account-repository.ts'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { type PostgresSignals, postgresSignals } from '../../../src/adapters/postgres/signals.ts'
import { postgresWebhookStore } from '../../../src/adapters/postgres/webhook-store.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'

const cipher = createTokenCipher([new Uint8Array(32).fill(9)])

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describePostgres('webhook wake-ups over LISTEN/NOTIFY', () => {
  const db = useTestDatabase()
  let signals: PostgresSignals | undefined
  beforeAll(async () => {
    await migrate(db.pool)
  })
  afterEach(async () => {
    await signals?.close()
  })

  it("wakes the dispatcher when a change adds a delivery, and not the engines' listeners", async () => {
    signals = postgresSignals({ pool: db.pool, databaseUrl: db.url })
    await until(() => signals!.listening(), 'the listening connection')
    let wakeUps = 0
    const topics: string[] = []
    signals.onWebhooks(() => wakeUps++)
    signals.subscribe((topic) => topics.push(topic))
    // The reconnect's own nudge has gone by: count from here.
    await new Promise((resolve) => setTimeout(resolve, 50))
    wakeUps = 0
    topics.length = 0

    await postgresWebhookStore(db.pool, cipher).createEndpoint({
      id: 'wh_all',
      url: 'https://hooks.example.com/all',
      events: [],
      secret: 'whsec_c2VjcmV0',
      createdAt: Date.now(),
    })
    const now = Date.now()
    await postgresAccounts(db.pool, cipher).save({
      email: 'ann@example.com',
      status: 'connected',
      scopes: ['https://www.googleapis.com/auth/gmail.send'],
      isDefault: true,
      connectedAt: now,
      refreshToken: '1//refresh',
    })
    await until(() => wakeUps > 0, 'the webhooks notification')
    expect(wakeUps).toBe(1)
    expect(topics).toEqual([])
  })
})
