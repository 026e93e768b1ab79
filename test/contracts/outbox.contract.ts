/**
 * What every outbox promises (`OutboxRepository` and `OutboxClaims` of
 * src/domain/ports.ts), whatever keeps it: run on the in-memory fake, the
 * lowdb files and PostgreSQL (outbox.test.ts). Times come from the store's
 * own clock (`outbox.now()`: PostgreSQL's, or the clock a store was given),
 * so that the same assertions hold for all. This file holds acceptance,
 * idempotency and reads; the claims are in outbox-claims.contract.ts.
 */
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import type { OutboxClaims, OutboxRepository } from '../../src/domain/ports.ts'
import { outboxClaimsContract } from './outbox-claims.contract.ts'
import { outboxKeyIdContract } from './outbox-key-id.contract.ts'
import { ANN, BOB, message, messages } from './outbox-messages.ts'
import { outboxOverdueContract } from './outbox-overdue.contract.ts'

export type OutboxUnderTest = OutboxRepository & OutboxClaims

/** A fresh, empty outbox for each test, and how to close it after. */
export type MakeOutbox = () => Promise<{ outbox: OutboxUnderTest; close?: () => Promise<void> }>

const HOUR = 3_600_000

const ids = (entries: readonly OutboxEntry[]) => entries.map((entry) => entry.id)

export function outboxContract(make: MakeOutbox): void {
  let outbox: OutboxUnderTest
  let close: (() => Promise<void>) | undefined
  beforeEach(async () => {
    ;({ outbox, close } = await make())
  })
  afterEach(async () => {
    await close?.()
  })

  it('gives back an accepted message and its raw body as they were, every byte', async () => {
    const now = await outbox.now()
    const raw = new Uint8Array([
      ...new TextEncoder().encode('Subject: Grüße\r\n\r\n'),
      ...Array.from({ length: 256 }, (_, i) => i),
    ])
    const scheduled = await message('round-trip', { at: now, sendAt: now + HOUR, raw })
    const [result] = await outbox.accept([scheduled])
    expect(result).toEqual({ entry: scheduled.entry, replayed: false })
    expect(await outbox.get('round-trip')).toEqual(scheduled.entry)
    expect(Array.from(await outbox.readRaw('round-trip'))).toEqual(Array.from(raw))
    expect(await outbox.get('nobody')).toBeUndefined()
    await expect(outbox.readRaw('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('accepts a batch all or none: a batch with an id already stored stores nothing', async () => {
    const now = await outbox.now()
    const [first, second, third] = await messages('batch', 3, { at: now - 1_000 })
    await outbox.accept([first!])
    await expect(outbox.accept([second!, first!, third!])).rejects.toMatchObject({ code: 'CONFLICT' })
    expect(await outbox.get(second!.entry.id)).toBeUndefined()
    expect(await outbox.get(third!.entry.id)).toBeUndefined()
    await expect(outbox.readRaw(second!.entry.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(ids(await outbox.pending())).toEqual([first!.entry.id])
  })

  it('lists newest first, page by page with the cursor, with or without a status filter', async () => {
    const now = await outbox.now()
    const all = await messages('list', 5, { at: now - 1_000 })
    // One call each, in acceptance order: every store agrees on which is newest.
    for (const incoming of all) await outbox.accept([incoming])
    const newestFirst = ids(all.map((incoming) => incoming.entry)).reverse()
    await outbox.change(newestFirst[1]!, () => ({ type: 'cancel' }))
    await outbox.change(newestFirst[3]!, () => ({ type: 'cancel' }))

    const first = await outbox.list({ limit: 2 })
    expect(ids(first.items)).toEqual(newestFirst.slice(0, 2))
    expect(first.nextCursor).toEqual(expect.any(String))
    // A message accepted between two pages does not shift the pages after it.
    await outbox.accept([await message('list-late', { at: now })])
    const second = await outbox.list({ limit: 2, cursor: first.nextCursor! })
    expect(ids(second.items)).toEqual(newestFirst.slice(2, 4))
    const last = await outbox.list({ limit: 2, cursor: second.nextCursor! })
    expect(ids(last.items)).toEqual(newestFirst.slice(4))
    expect(last.nextCursor).toBeUndefined()

    const canceled = await outbox.list({ status: 'canceled', limit: 1 })
    expect(ids(canceled.items)).toEqual([newestFirst[1]])
    const canceledNext = await outbox.list({ status: 'canceled', limit: 1, cursor: canceled.nextCursor! })
    expect(ids(canceledNext.items)).toEqual([newestFirst[3]])
    expect(canceledNext.nextCursor).toBeUndefined()
    expect((await outbox.list({ status: 'canceled', limit: 10 })).items[0]).toMatchObject({
      status: 'canceled',
    })
    expect(await outbox.list({ status: 'failed', limit: 10 })).toEqual({ items: [] })
    await expect(outbox.list({ limit: 2, cursor: 'not a cursor' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    })
  })

  it('counts messages by status, every status named, and lists the unfinished ones oldest first', async () => {
    const now = await outbox.now()
    const [queued, other, canceled] = await messages('count', 3, { at: now - 1_000 })
    const scheduled = await message('count-scheduled', { at: now - 500, sendAt: now + HOUR })
    const held = await message('count-held', { at: now - 400, account: BOB, connected: false })
    await outbox.accept([queued!, other!, canceled!, scheduled, held])
    await outbox.change(canceled!.entry.id, () => ({ type: 'cancel' }))

    expect(await outbox.countByStatus()).toEqual({
      queued: 2,
      scheduled: 1,
      sending: 0,
      sent: 0,
      held: 1,
      failed: 0,
      canceled: 1,
    })
    const pending = await outbox.pending()
    expect(ids(pending)).toEqual(['count-000', 'count-001', 'count-scheduled', 'count-held'])
    expect(pending.map((entry) => entry.status)).toEqual(['queued', 'queued', 'scheduled', 'held'])
  })

  it('gives the send times of one account since a time, oldest first', async () => {
    const now = await outbox.now()
    const [a, b, c] = await messages('sent', 3, { at: now - 10_000 })
    const bobs = await message('sent-bob', { at: now - 9_000, account: BOB })
    await outbox.accept([a!, b!, c!, bobs])
    const times = [now - 3_000, now - 2_000]
    for (const [index, claimed] of (
      await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: 60_000, limit: 2 })
    ).entries()) {
      const at = times[index]!
      await outbox.settle({
        owner: 'r1',
        id: claimed.id,
        event: { type: 'sent', at, gmailMessageId: `g-${claimed.id}`, gmailThreadId: 't' },
      })
    }
    const [bobClaim] = await outbox.claimDue({ owner: 'r1', account: BOB, leaseMs: 60_000, limit: 1 })
    await outbox.settle({
      owner: 'r1',
      id: bobClaim!.id,
      event: { type: 'sent', at: now - 2_500, gmailMessageId: 'g-bob', gmailThreadId: 't' },
    })

    expect(await outbox.sentSince(ANN, now - HOUR)).toEqual(times)
    expect(await outbox.sentSince(ANN, now - 2_000)).toEqual([now - 2_000])
    expect(await outbox.sentSince(ANN, now - 1_999)).toEqual([])
    expect(await outbox.sentSince(BOB, now - HOUR)).toEqual([now - 2_500])
    expect(await outbox.sentSince('nobody@example.com', now - HOUR)).toEqual([])
  })

  it('gives the earlier message back for a repeated key and input, and stores nothing new', async () => {
    const now = await outbox.now()
    const since = now - 24 * HOUR
    const first = await message('key-first', { at: now - 1_000, idempotencyKey: 'k1', inputHash: 'h' })
    await outbox.accept([first], { idempotencySince: since })
    const again = await message('key-again', { at: now, idempotencyKey: 'k1', inputHash: 'h' })
    const fresh = await message('key-fresh', { at: now })

    const results = await outbox.accept([fresh, again], { idempotencySince: since })
    expect(results).toEqual([
      { entry: fresh.entry, replayed: false },
      { entry: first.entry, replayed: true },
    ])
    expect(await outbox.get('key-again')).toBeUndefined()
    await expect(outbox.readRaw('key-again')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await outbox.findByIdempotencyKey('k1', since)).toEqual(first.entry)
    expect((await outbox.countByStatus()).queued).toBe(2)
  })

  it('refuses a key used for another input with CONFLICT, storing nothing of the call', async () => {
    const now = await outbox.now()
    const since = now - 24 * HOUR
    await outbox.accept([await message('used', { at: now - 1_000, idempotencyKey: 'k2', inputHash: 'h' })], {
      idempotencySince: since,
    })
    const bystander = await message('bystander', { at: now })
    const other = await message('other-input', { at: now, idempotencyKey: 'k2', inputHash: 'other' })
    await expect(outbox.accept([bystander, other], { idempotencySince: since })).rejects.toMatchObject({
      code: 'CONFLICT',
    })
    expect(await outbox.get('bystander')).toBeUndefined()
    expect(await outbox.get('other-input')).toBeUndefined()
    expect(ids(await outbox.pending())).toEqual(['used'])
    expect((await outbox.findByIdempotencyKey('k2', since))?.id).toBe('used')
  })

  it('lets a key accepted before idempotencySince count no more', async () => {
    const now = await outbox.now()
    await outbox.accept([await message('old-key', { at: now - 2 * HOUR, idempotencyKey: 'k3' })])
    const reused = await message('new-key', { at: now, idempotencyKey: 'k3', inputHash: 'another' })
    const [result] = await outbox.accept([reused], { idempotencySince: now - HOUR })
    expect(result).toEqual({ entry: reused.entry, replayed: false })
    expect(await outbox.get('new-key')).toEqual(reused.entry)
    expect(await outbox.get('old-key')).toMatchObject({ status: 'queued' })
    expect((await outbox.findByIdempotencyKey('k3', now - HOUR))?.id).toBe('new-key')
    expect(await outbox.findByIdempotencyKey('k3', now + 1)).toBeUndefined()
  })

  it('makes one message of two acceptances racing with one key', async () => {
    const now = await outbox.now()
    const since = now - 24 * HOUR
    const one = await message('race-1', { at: now, idempotencyKey: 'k4', inputHash: 'h' })
    const two = await message('race-2', { at: now, idempotencyKey: 'k4', inputHash: 'h' })
    const [[a], [b]] = await Promise.all([
      outbox.accept([one], { idempotencySince: since }),
      outbox.accept([two], { idempotencySince: since }),
    ])
    expect([a!.replayed, b!.replayed].sort()).toEqual([false, true])
    expect(a!.entry.id).toBe(b!.entry.id)
    const loser = a!.entry.id === 'race-1' ? 'race-2' : 'race-1'
    expect(ids(await outbox.pending())).toEqual([a!.entry.id])
    expect(await outbox.get(loser)).toBeUndefined()
    await expect(outbox.readRaw(loser)).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('of two acceptances racing with one key and other inputs, accepts one and refuses the other', async () => {
    const now = await outbox.now()
    const since = now - 24 * HOUR
    const outcomes = await Promise.allSettled([
      outbox.accept([await message('clash-1', { at: now, idempotencyKey: 'k5', inputHash: 'h1' })], {
        idempotencySince: since,
      }),
      outbox.accept([await message('clash-2', { at: now, idempotencyKey: 'k5', inputHash: 'h2' })], {
        idempotencySince: since,
      }),
    ])
    const accepted = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? outcome.value : []))
    const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []))
    expect(accepted).toHaveLength(1)
    expect(refused).toEqual([expect.objectContaining({ code: 'CONFLICT' })])
    expect(ids(await outbox.pending())).toEqual([accepted[0]!.entry.id])
  })

  it("lists only one key's messages when asked, newest first, page by page, finished ones included", async () => {
    const now = await outbox.now()
    const owners = ['key_a', 'key_b', 'key_a', undefined, 'key_a', 'key_b', 'key_a']
    const incoming = await Promise.all(
      owners.map((apiKeyId, i) =>
        message(`owned-${i}`, { at: now - 10_000 + i * 10, ...(apiKeyId === undefined ? {} : { apiKeyId }) }),
      ),
    )
    for (const one of incoming) await outbox.accept([one])
    await outbox.change('owned-2', () => ({ type: 'cancel' }))

    const first = await outbox.list({ limit: 2, apiKeyId: 'key_a' })
    expect(ids(first.items)).toEqual(['owned-6', 'owned-4'])
    const second = await outbox.list({ limit: 2, apiKeyId: 'key_a', cursor: first.nextCursor! })
    expect(ids(second.items)).toEqual(['owned-2', 'owned-0'])
    expect(second.nextCursor).toBeUndefined()
    expect(ids((await outbox.list({ limit: 10, apiKeyId: 'key_b' })).items)).toEqual(['owned-5', 'owned-1'])
    expect(ids((await outbox.list({ limit: 10, apiKeyId: 'key_a', status: 'canceled' })).items)).toEqual([
      'owned-2',
    ])
    expect(await outbox.list({ limit: 10, apiKeyId: 'key_none' })).toEqual({ items: [] })
    expect((await outbox.list({ limit: 10 })).items).toHaveLength(7)
  })

  outboxClaimsContract(() => outbox)
  outboxKeyIdContract(() => outbox)
  outboxOverdueContract(() => outbox)
}
