/**
 * What `change-notes.ts` lets run beside the caller, over the real lowdb
 * stores: a claimed message's outcome is noted ahead, at the claim, so the
 * outcome's own write waits for no note, and the note is forgotten whatever
 * the outcome; a crash after the outcome's write, its publication cut off,
 * is made good on the next open.
 */
import { describe, expect, it } from 'vitest'
import type { ChangeJournal } from '../../../src/app/webhooks/change-journal.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import { transition } from '../../../src/domain/mail/transition.ts'
import { makeClock, makeTempDir, T0 } from '../../adapters/lowdb/fixtures.ts'
import { message } from '../../contracts/outbox-messages.ts'
import { mailEvent, openAll, sentVersion, withEndpoint } from './change-fixtures.ts'

describe('notes taken ahead of a claimed message’s outcome (lowdb)', () => {
  it('notes a claimed message ahead of its outcome, which then notes nothing more, and forgets it after a retry', async () => {
    const dataDir = await makeTempDir()
    await (await withEndpoint(dataDir)).close()
    const notes: Array<{ ids: string[]; ahead: boolean }> = []
    const recording = (store: ChangeJournal): ChangeJournal => ({
      ...store,
      note: (changes, options) => {
        notes.push({
          ids: changes.map((change) => (change.kind === 'mail' ? change.id : change.email)),
          ahead: options?.ahead === true,
        })
        return store.note(changes, options)
      },
    })
    const { outbox, webhooks, events, close } = await openAll(dataDir, makeClock(), recording)
    await outbox.accept([await message('m-1', { at: T0 }), await message('m-2', { at: T0 })])
    const claim = (entry: OutboxEntry) => ({ ...transition(entry, { type: 'claim' }), updatedAt: T0 + 1 })
    const first = (await outbox.get('m-1'))!
    await outbox.update(claim(first))
    const sent = sentVersion(first, T0 + 2)
    await outbox.update(sent)
    expect(await events()).toEqual([await mailEvent('mail.sent', sent)])
    expect(notes).toEqual([{ ids: ['m-1'], ahead: true }])

    const second = (await outbox.get('m-2'))!
    await outbox.update(claim(second))
    // Gmail said "later": back in the queue, nothing to report, the note taken ahead forgotten.
    await outbox.update({ ...claim(second), status: 'queued', updatedAt: T0 + 3 })
    // Nothing new to claim (the mail.sent above is claimed already).
    expect(await events()).toEqual([])
    expect(webhooks.noted()).toEqual([])
    await close()
  })

  it('makes good on open the event of a claimed message whose publication a crash cut off', async () => {
    const dataDir = await makeTempDir()
    await (await withEndpoint(dataDir)).close()
    const dying = (store: ChangeJournal): ChangeJournal => ({
      ...store,
      conclude: async () => {
        throw new Error('the process died here')
      },
    })
    const crashing = await openAll(dataDir, makeClock(), dying)
    await crashing.outbox.accept([await message('m-1', { at: T0 })])
    const accepted = (await crashing.outbox.get('m-1'))!
    await crashing.outbox.update({ ...transition(accepted, { type: 'claim' }), updatedAt: T0 + 1 })
    const sent = sentVersion(accepted, T0 + 5)
    await crashing.outbox.update(sent)
    expect(crashing.webhooks.noted()).toEqual([{ kind: 'mail', id: 'm-1', prior: 'sending' }])
    await crashing.close()

    const reopened = await openAll(dataDir)
    expect(await reopened.reconcile()).toBe(1)
    expect(await reopened.events()).toEqual([await mailEvent('mail.sent', sent)])
    expect(reopened.webhooks.noted()).toEqual([])
    await reopened.close()
  })
})
