/**
 * The webhook events PostgreSQL's triggers (migration 3) write with the
 * changes they report, through the real outbox and accounts: exactly one
 * event per reported change, its `data` deep-equal to what the app's own
 * `toMailRecord` / `toAccountStatus` make of the stored state, its id the
 * one the in-process derivation computes; nothing for a change rolled
 * back, and nothing at all while no endpoint wants it.
 */
import { beforeAll, beforeEach, expect, it } from 'vitest'
import { createTokenCipher } from '../../../src/adapters/lowdb/token-cipher.ts'
import { postgresAccounts } from '../../../src/adapters/postgres/account-repository.ts'
import { migrate } from '../../../src/adapters/postgres/migrate.ts'
import { postgresOutbox } from '../../../src/adapters/postgres/outbox-repository.ts'
import { postgresWebhookStore } from '../../../src/adapters/postgres/webhook-store.ts'
import { toAccountStatus } from '../../../src/app/account-status.ts'
import { toMailRecord } from '../../../src/app/mail-record.ts'
import { accountEventKey, mailEventKey, webhookEventId } from '../../../src/app/webhooks/event-ids.ts'
import type { Account } from '../../../src/domain/credentials/account.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import type { EventType } from '../../../src/domain/webhooks/event.ts'
import { ANN, message } from '../../contracts/outbox-messages.ts'
import { describePostgres, useTestDatabase } from '../../support/postgres.ts'

const cipher = createTokenCipher([new Uint8Array(32).fill(9)])
const DAY = 86_400_000
const OWNER = 'replica-1'

describePostgres('webhook events written by the PostgreSQL triggers', () => {
  const db = useTestDatabase()
  beforeAll(async () => {
    await migrate(db.pool)
  })
  beforeEach(async () => {
    await db.pool.query(
      'TRUNCATE messages, accounts, webhook_attempts, webhook_deliveries, webhook_events, webhook_endpoints CASCADE',
    )
  })

  const outbox = () => postgresOutbox(db.pool, { retentionMs: 30 * DAY })
  const accounts = () => postgresAccounts(db.pool, cipher)
  const webhooks = () => postgresWebhookStore(db.pool, cipher, { sweepEveryMs: Number.POSITIVE_INFINITY })
  const subscribe = (events: EventType[] = [], id = 'wh_all') =>
    webhooks().createEndpoint({
      id,
      url: `https://hooks.example.com/${id}`,
      events,
      secret: 'whsec_c2VjcmV0',
      createdAt: Date.now(),
    })

  const storedEvents = async () =>
    (
      await db.pool.query(
        `SELECT id, type, data, (SELECT count(*)::int FROM webhook_deliveries d WHERE d.event_id = e.id) AS deliveries
         FROM webhook_events e ORDER BY at, id`,
      )
    ).rows as Array<{ id: string; type: EventType; data: unknown; deliveries: number }>
  const count = async (table: string) =>
    (await db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number

  const mailEvent = async (type: EventType, entry: OutboxEntry) => ({
    id: await webhookEventId(mailEventKey(type, entry)),
    type,
    data: toMailRecord(entry),
    deliveries: 1,
  })
  const accountEvent = async (type: EventType, account: Account) => ({
    id: await webhookEventId(accountEventKey(type, account)),
    type,
    data: toAccountStatus(account),
    deliveries: 1,
  })

  /** Accepts `id` and claims it: the message is `sending`, leased to OWNER. */
  const acceptAndClaim = async (id: string) => {
    const store = outbox()
    await store.accept([await message(id, { at: (await store.now()) - 1_000 })])
    const [claimed] = await store.claimDue({ owner: OWNER, account: ANN, leaseMs: 60_000, limit: 1 })
    expect(claimed?.id).toBe(id)
    return store
  }

  it('reports a message sent, failed, held (on acceptance and after a failure) and canceled, once each', async () => {
    await subscribe()
    const error = { code: 'GMAIL_REJECTED', message: 'Gmail refused the message' }
    const store = await acceptAndClaim('m-sent')
    expect(await count('webhook_events')).toBe(0)
    const sent = await store.settle({
      owner: OWNER,
      id: 'm-sent',
      event: { type: 'sent', at: await store.now(), gmailMessageId: 'g-1', gmailThreadId: 't-1' },
    })
    await acceptAndClaim('m-failed')
    const failed = await store.settle({
      owner: OWNER,
      id: 'm-failed',
      event: { type: 'fail', at: await store.now(), error },
    })
    await acceptAndClaim('m-held-after')
    const heldAfter = await store.settle({
      owner: OWNER,
      id: 'm-held-after',
      event: {
        type: 'holdAfterFailure',
        at: await store.now(),
        error: { code: 'REAUTHORIZATION_REQUIRED', message: 'x' },
      },
    })
    const now = await store.now()
    const [accepted] = await store.accept([await message('m-held', { at: now, connected: false })])
    await store.accept([await message('m-canceled', { at: now, sendAt: now + DAY })])
    const canceled = await store.change('m-canceled', () => ({ type: 'cancel' }))

    const expected = [
      await mailEvent('mail.sent', sent!),
      await mailEvent('mail.failed', failed!),
      await mailEvent('mail.held', heldAfter!),
      await mailEvent('mail.held', accepted!.entry),
      await mailEvent('mail.canceled', canceled),
    ]
    const stored = await storedEvents()
    expect(stored).toHaveLength(expected.length)
    expect(stored).toEqual(expect.arrayContaining(expected))
    expect(failed?.error).toEqual(error)
    expect(expected[1]!.data.error).toEqual(error)
    expect(expected[0]!.data).not.toHaveProperty('error')
  })

  it('hands the event to the dispatcher as stored: the claim gives the same id, type and data', async () => {
    await subscribe(['mail.sent'])
    const store = await acceptAndClaim('m-1')
    const sent = await store.settle({
      owner: OWNER,
      id: 'm-1',
      event: { type: 'sent', at: await store.now(), gmailMessageId: 'g-1', gmailThreadId: 't-1' },
    })
    const jobs = await webhooks().claimDue({
      owner: 'd',
      now: Date.now() + 60_000,
      leaseMs: 10_000,
      limit: 10,
    })
    expect(jobs).toHaveLength(1)
    const { deliveries: _one, ...event } = await mailEvent('mail.sent', sent!)
    expect(jobs[0]!.event).toEqual({ ...event, at: sent!.updatedAt })
    expect(jobs[0]!.endpoint.secret).toBe('whsec_c2VjcmV0')
  })

  it('reports a message held again after a release as a second event', async () => {
    await subscribe(['mail.held'])
    const store = outbox()
    const now = await store.now()
    await store.accept([await message('m-again', { at: now - 1_000, connected: false })])
    await store.changeAccount(ANN, ['held'], () => ({ type: 'release', at: now }))
    const [held] = await store.changeAccount(ANN, ['queued'], () => ({ type: 'hold' }))
    const stored = await storedEvents()
    expect(stored.map((event) => event.type)).toEqual(['mail.held', 'mail.held'])
    expect(new Set(stored.map((event) => event.id)).size).toBe(2)
    expect(stored).toContainEqual(await mailEvent('mail.held', held!))
  })

  it('writes the event in the transaction of the change: a change rolled back leaves none', async () => {
    await subscribe()
    const store = outbox()
    await store.accept([await message('m-rollback', { at: await store.now() })])
    const client = await db.pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`UPDATE messages SET status = 'canceled' WHERE id = 'm-rollback'`)
      const inside = await client.query('SELECT count(*)::int AS n FROM webhook_events')
      expect(inside.rows[0].n).toBe(1)
      await client.query('ROLLBACK')
    } finally {
      client.release()
    }
    expect(await count('webhook_events')).toBe(0)
    expect(await count('webhook_deliveries')).toBe(0)
    expect((await store.get('m-rollback'))?.status).toBe('queued')
  })

  it('writes nothing, not even the event, while no enabled endpoint wants it', async () => {
    const store = await acceptAndClaim('m-none')
    await store.settle({
      owner: OWNER,
      id: 'm-none',
      event: { type: 'fail', at: await store.now(), error: { code: 'X', message: 'x' } },
    })
    await subscribe(['account.connected'], 'wh_accounts')
    await subscribe([], 'wh_disabled')
    await webhooks().disableEndpoint('wh_disabled', Date.now(), 'answered 410')
    await acceptAndClaim('m-other')
    await store.settle({
      owner: OWNER,
      id: 'm-other',
      event: { type: 'sent', at: await store.now(), gmailMessageId: 'g', gmailThreadId: 't' },
    })
    expect(await count('webhook_events')).toBe(0)
    expect(await count('webhook_deliveries')).toBe(0)
  })

  it('reports an account connected, needing reauthorization, reconnected and warned of expiry, once each', async () => {
    await subscribe()
    const repository = accounts()
    const connectedAt = Date.UTC(2026, 10, 1, 9, 0, 0, 123)
    const ann: Account = {
      email: ANN,
      status: 'connected',
      scopes: ['https://www.googleapis.com/auth/gmail.send'],
      isDefault: true,
      connectedAt,
      lastRefreshAt: connectedAt,
      refreshToken: '1//refresh',
      accessToken: 'ya29.access',
      accessTokenExpiresAt: connectedAt + 3_600_000,
      refreshTokenExpiresAt: connectedAt + 7 * DAY,
    }
    const expected = []
    const saveAndRead = async (account: Account) => {
      await repository.save(account)
      return (await repository.get(account.email))!
    }
    expected.push(await accountEvent('account.connected', await saveAndRead(ann)))
    // A refresh or a change of default reports nothing.
    await saveAndRead({ ...ann, accessToken: 'ya29.other', lastRefreshAt: connectedAt + 1_000 })
    await saveAndRead({ ...ann, isDefault: false, lastRefreshAt: connectedAt + 1_000 })
    const lost = await saveAndRead({
      ...ann,
      status: 'reauthorization_required',
      lastRefreshAt: connectedAt + 1_000,
      lastError: { code: 'REAUTHORIZATION_REQUIRED', message: 'Google refused the refresh token' },
    })
    expected.push(await accountEvent('account.reauthorization_required', lost))
    const back = await saveAndRead({ ...ann, lastRefreshAt: connectedAt + 2 * DAY })
    expected.push(await accountEvent('account.connected', back))
    const warned = await saveAndRead({ ...back, expiryWarnedFor: back.refreshTokenExpiresAt! })
    expected.push(await accountEvent('account.expiring', warned))
    await saveAndRead({ ...warned, accessToken: 'ya29.again' })

    const stored = await storedEvents()
    expect(stored).toHaveLength(4)
    expect(stored).toEqual(expect.arrayContaining(expected))
    expect(expected[3]!.data.expiresAt).toBe(new Date(connectedAt + 7 * DAY).toISOString())
  })
})
