/**
 * What every outbox promises about `apiKeyId`, the id of the API key that
 * accepted a message (never the key): kept through acceptance, replays,
 * updates, claims and outcomes, and given back by every read, finished
 * messages included (lowdb reads those from its history). Registered by
 * `outboxContract` (outbox.contract.ts), which makes the outbox for each test.
 */
import { expect, it } from 'vitest'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import type { OutboxUnderTest } from './outbox.contract.ts'
import { ANN, message } from './outbox-messages.ts'

const HOUR = 3_600_000

export function outboxKeyIdContract(current: () => OutboxUnderTest): void {
  it('keeps the id of the key that accepted a message through acceptance, updates, claims, reads and lists', async () => {
    const outbox = current()
    const now = await outbox.now()
    const since = now - 24 * HOUR
    const byA = await message('by-key-a', { at: now - 3_000, apiKeyId: 'key_a' })
    const byB = await message('by-key-b', { at: now - 2_000, apiKeyId: 'key_b', idempotencyKey: 'kb' })
    const byNone = await message('by-no-key', { at: now - 1_000 })
    const accepted = await outbox.accept([byA, byB, byNone], { idempotencySince: since })
    expect(accepted.map((result) => result.entry.apiKeyId)).toEqual(['key_a', 'key_b', undefined])
    expect(await outbox.get('by-key-a')).toEqual(byA.entry)
    expect(await outbox.get('by-no-key')).not.toHaveProperty('apiKeyId')

    // A replay gives the earlier message, with the key that made it.
    const again = await message('by-key-b-again', { at: now, apiKeyId: 'key_b', idempotencyKey: 'kb' })
    const [replay] = await outbox.accept([again], { idempotencySince: since })
    expect(replay).toMatchObject({ replayed: true, entry: { id: 'by-key-b', apiKeyId: 'key_b' } })
    expect(await outbox.findByIdempotencyKey('kb', since)).toMatchObject({ apiKeyId: 'key_b' })

    // update replaces the whole state, this field with it; change, claim and settle keep it.
    const updated: OutboxEntry = { ...byA.entry, apiKeyId: 'key_a2', updatedAt: now - 2_500 }
    await outbox.update(updated)
    expect(await outbox.get('by-key-a')).toEqual(updated)
    expect(await outbox.change('by-key-a', () => ({ type: 'cancel' }))).toMatchObject({
      status: 'canceled',
      apiKeyId: 'key_a2',
    })
    const claimed = await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: 60_000, limit: 1 })
    expect(claimed).toEqual([expect.objectContaining({ id: 'by-key-b', apiKeyId: 'key_b' })])
    await outbox.settle({
      owner: 'r1',
      id: 'by-key-b',
      event: { type: 'sent', at: await outbox.now(), gmailMessageId: 'g-b', gmailThreadId: 't' },
    })

    // Finished messages (lowdb: read back from the history) keep it too.
    expect(await outbox.get('by-key-a')).toMatchObject({ status: 'canceled', apiKeyId: 'key_a2' })
    expect(await outbox.get('by-key-b')).toMatchObject({ status: 'sent', apiKeyId: 'key_b' })
    const listed = (await outbox.list({ limit: 10 })).items
    expect(listed.map((entry) => [entry.id, entry.apiKeyId])).toEqual([
      ['by-no-key', undefined],
      ['by-key-b', 'key_b'],
      ['by-key-a', 'key_a2'],
    ])
    expect((await outbox.list({ status: 'sent', limit: 10 })).items).toEqual([
      expect.objectContaining({ id: 'by-key-b', apiKeyId: 'key_b' }),
    ])
    expect((await outbox.pending()).map((entry) => [entry.id, entry.apiKeyId])).toEqual([
      ['by-no-key', undefined],
    ])
  })
}
