/**
 * The in-process derivation of webhook events (src/app/webhooks/change-events.ts)
 * over the real lowdb outbox, accounts and webhook store in a temp
 * DATA_DIR: each reported change publishes its one event, with `data`
 * what `toMailRecord` / `toAccountStatus` make of the stored state and the
 * id PostgreSQL's triggers would give it; a crash between the change and
 * its event is made good on the next open, once; a change that never
 * happened reports nothing; with no endpoint, nothing is written at all.
 */
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DELIVERIES_FILE } from '../../../src/adapters/lowdb/webhook-files.ts'
import { toAccountStatus } from '../../../src/app/account-status.ts'
import { withChangeEvents } from '../../../src/app/webhooks/change-events.ts'
import type { ChangeJournal } from '../../../src/app/webhooks/change-journal.ts'
import { accountEventKey, webhookEventId } from '../../../src/app/webhooks/event-ids.ts'
import type { Account } from '../../../src/domain/credentials/account.ts'
import { transition } from '../../../src/domain/mail/transition.ts'
import type { EventType } from '../../../src/domain/webhooks/event.ts'
import { makeClock, makeTempDir, T0 } from '../../adapters/lowdb/fixtures.ts'
import { ANN, message } from '../../contracts/outbox-messages.ts'
import { ann, DAY, mailEvent, openAll, sentVersion, withEndpoint } from './change-fixtures.ts'

describe('webhook events derived in the process (lowdb)', () => {
  it('publishes one event per reported status change, and nothing for the steps in between', async () => {
    const dataDir = await makeTempDir()
    const { outbox, events, clock, close } = await withEndpoint(dataDir)
    await outbox.accept([await message('m-sent', { at: T0 }), await message('m-fail', { at: T0 })])
    const accepted = await outbox.get('m-sent')
    await outbox.update({ ...transition(accepted!, { type: 'claim' }), updatedAt: T0 + 1 })
    expect(await events()).toEqual([])
    const sent = sentVersion(accepted!, T0 + 2)
    await outbox.update(sent)
    await outbox.update({ ...sent, updatedAt: T0 + 3 })

    const [claimed] = await outbox.claimDue({ owner: 'me', account: ANN, leaseMs: 60_000, limit: 1 })
    const error = { code: 'GMAIL_REJECTED', message: 'Gmail refused the message' }
    const failed = await outbox.settle({
      owner: 'me',
      id: claimed!.id,
      event: { type: 'fail', at: clock.now(), error },
    })
    const [held] = await outbox.accept([await message('m-held', { at: T0, connected: false })])
    await outbox.accept([await message('m-cancel', { at: T0, sendAt: T0 + DAY })])
    const canceled = await outbox.change('m-cancel', () => ({ type: 'cancel' }))

    const all = await events()
    expect(all).toHaveLength(4)
    expect(all).toEqual(
      expect.arrayContaining([
        await mailEvent('mail.sent', sent),
        await mailEvent('mail.failed', failed!),
        await mailEvent('mail.held', held!.entry),
        await mailEvent('mail.canceled', canceled),
      ]),
    )
    await close()
  })

  it('reports every message an account hold moves, and an account’s connection, loss and expiry warning', async () => {
    const dataDir = await makeTempDir()
    const { outbox, accounts, webhooks, events, clock, close } = await withEndpoint(dataDir)
    await outbox.accept([await message('m-1', { at: T0 }), await message('m-2', { at: T0 + 1 })])
    const moved = await outbox.changeAccount(ANN, ['queued'], () => ({ type: 'hold' }))
    expect(moved).toHaveLength(2)

    await accounts.save(ann)
    await accounts.save({ ...ann, isDefault: false })
    const lost: Account = {
      ...ann,
      status: 'reauthorization_required',
      lastError: { code: 'X', message: 'y' },
    }
    await accounts.save(lost)
    const warned: Account = { ...ann, lastRefreshAt: T0, expiryWarnedFor: ann.refreshTokenExpiresAt! }
    await accounts.save(warned)
    const accountEvent = async (type: EventType, account: Account) => ({
      id: await webhookEventId(accountEventKey(type, account)),
      type,
      at: clock.now(),
      data: toAccountStatus(account),
    })
    const all = await events()
    expect(all).toHaveLength(6)
    expect(all).toEqual(
      expect.arrayContaining([
        ...(await Promise.all(moved.map((entry) => mailEvent('mail.held', entry)))),
        await accountEvent('account.connected', ann),
        await accountEvent('account.reauthorization_required', lost),
        await accountEvent('account.connected', warned),
        await accountEvent('account.expiring', warned),
      ]),
    )
    expect(webhooks.noted()).toEqual([])
    await close()
  })

  it('makes good on open an event a crash lost between the change and its publication, once', async () => {
    const dataDir = await makeTempDir()
    const failing = (store: ChangeJournal): ChangeJournal => ({
      ...store,
      conclude: async () => {
        throw new Error('the process died here')
      },
    })
    const first = await withEndpoint(dataDir)
    await first.close()
    const crashing = await openAll(dataDir, makeClock(), failing)
    await crashing.outbox.accept([await message('m-1', { at: T0 })])
    const sent = sentVersion((await crashing.outbox.get('m-1'))!, T0 + 5)
    await crashing.outbox.update(sent)
    expect((await crashing.outbox.get('m-1'))?.status).toBe('sent')
    await crashing.close()

    const reopened = await openAll(dataDir)
    expect(await reopened.reconcile()).toBe(1)
    expect(await reopened.reconcile()).toBe(0)
    expect(await reopened.events()).toEqual([await mailEvent('mail.sent', sent)])
    expect(reopened.webhooks.noted()).toEqual([])
    await reopened.close()
  })

  it('reports nothing on open for a change noted but never written', async () => {
    const dataDir = await makeTempDir()
    const setup = await withEndpoint(dataDir)
    await setup.outbox.accept([await message('m-1', { at: T0 })])
    const queued = (await setup.raw.outbox.get('m-1'))!
    const broken = withChangeEvents(
      {
        outbox: {
          ...setup.raw.outbox,
          get: (id: string) => setup.raw.outbox.get(id),
          update: async () => {
            throw new Error('disk gone')
          },
        } as typeof setup.raw.outbox,
        accounts: setup.raw.accounts,
      },
      { journal: setup.webhooks, clock: setup.clock },
    )
    await expect(broken.outbox.update(sentVersion(queued, T0 + 5))).rejects.toThrow('disk gone')
    expect(setup.webhooks.noted()).toEqual([{ kind: 'mail', id: 'm-1', prior: 'queued' }])
    await setup.close()

    const reopened = await openAll(dataDir)
    expect(await reopened.reconcile()).toBe(0)
    expect(reopened.webhooks.noted()).toEqual([])
    expect(await reopened.events()).toEqual([])
    await reopened.close()
  })

  it('publishes a lost event with the next change when only the publication failed', async () => {
    const dataDir = await makeTempDir()
    await (await withEndpoint(dataDir, ['mail.canceled'])).close()
    let fail = true
    const flaky = (store: ChangeJournal): ChangeJournal => ({
      ...store,
      conclude: async (keys, list, at) => {
        if (fail) throw new Error('disk full for a moment')
        return store.conclude(keys, list, at)
      },
    })
    const opened = await openAll(dataDir, makeClock(), flaky)
    await opened.outbox.accept([await message('m-1', { at: T0 }), await message('m-2', { at: T0 })])
    await opened.outbox.change('m-1', () => ({ type: 'cancel' }))
    await opened.settled()
    fail = false
    await opened.outbox.change('m-2', () => ({ type: 'cancel' }))
    expect((await opened.events()).map((event) => event.data.id).sort()).toEqual(['m-1', 'm-2'])
    await opened.close()
  })

  it('writes nothing for webhooks while no endpoint is registered', async () => {
    const dataDir = await makeTempDir()
    const { outbox, accounts, close } = await openAll(dataDir)
    await outbox.accept([
      await message('m-1', { at: T0 }),
      await message('m-2', { at: T0, connected: false }),
    ])
    await outbox.update(sentVersion((await outbox.get('m-1'))!, T0 + 1))
    await outbox.change('m-2', () => ({ type: 'cancel' }))
    await accounts.save(ann)
    await close()
    await expect(access(join(dataDir, DELIVERIES_FILE))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
