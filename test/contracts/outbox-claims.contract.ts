/**
 * What every outbox promises about claims (`OutboxClaims` of
 * src/domain/ports.ts): leases taken oldest first and never twice, renewed,
 * lost when they expire, outcomes written only by the holder, and status
 * changes that go through the domain's transitions or change nothing.
 * Registered by `outboxContract` (outbox.contract.ts), which makes the
 * outbox for each test. Leases expire for real: short ones, and a wait.
 */
import { expect, it } from 'vitest'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import type { MailEvent } from '../../src/domain/mail/transition.ts'
import type { OutboxUnderTest } from './outbox.contract.ts'
import { ANN, BOB, message, messages } from './outbox-messages.ts'

const MINUTE = 60_000
const SHORT_LEASE_MS = 200

const ids = (entries: readonly OutboxEntry[]) => entries.map((entry) => entry.id)
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const sentAt = (at: number): MailEvent => ({ type: 'sent', at, gmailMessageId: 'g-1', gmailThreadId: 't-1' })
const unavailable = { code: 'GMAIL_UNAVAILABLE', message: 'Gmail answered 503' }

export function outboxClaimsContract(current: () => OutboxUnderTest): void {
  it('claims due messages oldest first, at most the limit, each leased to its owner', async () => {
    const outbox = current()
    const now = await outbox.now()
    const due = await messages('due', 4, { at: now - 5_000 })
    await outbox.accept(due)
    await outbox.accept([await message('bobs', { at: now - 6_000, account: BOB })])

    const before = await outbox.now()
    const claimed = await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 3 })
    const after = await outbox.now()
    expect(ids(claimed)).toEqual(['due-000', 'due-001', 'due-002'])
    for (const [index, entry] of claimed.entries()) {
      expect(entry).toMatchObject({
        ...due[index]!.entry,
        status: 'sending',
        attempts: 1,
        updatedAt: expect.any(Number),
      })
      expect(entry.updatedAt).toBeGreaterThanOrEqual(before)
      expect(entry.updatedAt).toBeLessThanOrEqual(after)
      expect(entry.claim?.owner).toBe('r1')
      expect(entry.claim!.until).toBeGreaterThanOrEqual(before + MINUTE)
      expect(entry.claim!.until).toBeLessThanOrEqual(after + MINUTE)
      // Returned as stored.
      expect(await outbox.get(entry.id)).toEqual(entry)
    }
    expect(ids(await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 3 }))).toEqual([
      'due-003',
    ])
    expect(await outbox.claimDue({ owner: 'r2', account: ANN, leaseMs: MINUTE, limit: 3 })).toEqual([])
    expect(await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 0 })).toEqual([])
    expect(await outbox.get('bobs')).toMatchObject({ status: 'queued', attempts: 0 })
  })

  it('never gives one message to two owners claiming at once, and leaves none behind', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept(await messages('contended', 12, { at: now - 5_000 }))
    /** One owner claiming until nothing is left for it. */
    const claimAll = async (owner: string) => {
      const claimed: OutboxEntry[] = []
      for (;;) {
        const batch = await outbox.claimDue({ owner, account: ANN, leaseMs: MINUTE, limit: 5 })
        if (batch.length === 0) return claimed
        claimed.push(...batch)
      }
    }
    const byOwner = await Promise.all(['r1', 'r2', 'r3'].map(claimAll))
    const all = byOwner.flat()
    expect(new Set(ids(all)).size).toBe(all.length)
    expect(all.length).toBe(12)
    for (const [index, owner] of ['r1', 'r2', 'r3'].entries()) {
      for (const entry of byOwner[index]!) expect(entry).toMatchObject({ attempts: 1, claim: { owner } })
    }
    expect((await outbox.countByStatus()).sending).toBe(12)
  })

  it('skips what another claim under way holds and takes the next due messages, as SKIP LOCKED does', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept(await messages('skip', 4, { at: now - 5_000 }))
    const [first, second] = await Promise.all([
      outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 2 }),
      outbox.claimDue({ owner: 'r2', account: ANN, leaseMs: MINUTE, limit: 2 }),
    ])
    expect(first).toHaveLength(2)
    expect(second).toHaveLength(2)
    expect(new Set([...ids(first!), ...ids(second!)]).size).toBe(4)
  })

  it('leaves scheduled, backed-off and held messages unclaimed until they are due', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept([
      await message('backoff', { at: now - 3_000 }),
      await message('later', { at: now - 2_000, sendAt: now + MINUTE }),
      await message('held', { at: now - 1_000, connected: false }),
      await message('ready', { at: now - 500 }),
    ])
    const [first] = await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 1 })
    expect(first?.id).toBe('backoff')
    const retry = await outbox.settle({
      owner: 'r1',
      id: 'backoff',
      event: { type: 'retryLater', at: now, error: unavailable, nextAttemptAt: now + MINUTE },
    })
    expect(retry).toMatchObject({ status: 'queued', nextAttemptAt: now + MINUTE, error: unavailable })
    expect(retry?.claim).toBeUndefined()

    const claimed = await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 10 })
    expect(ids(claimed)).toEqual(['ready'])
    expect(await outbox.claimDue({ owner: 'r2', account: ANN, leaseMs: MINUTE, limit: 10 })).toEqual([])
    expect(await outbox.get('backoff')).toMatchObject({ status: 'queued', attempts: 1 })
    expect(await outbox.get('later')).toMatchObject({ status: 'scheduled', attempts: 0 })
    expect(await outbox.get('held')).toMatchObject({ status: 'held', attempts: 0 })
  })

  it('claims a scheduled message once its time has come', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept([await message('soon', { at: now, sendAt: now + SHORT_LEASE_MS })])
    expect(await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 1 })).toEqual([])
    await wait(SHORT_LEASE_MS + 50)
    const [claimed] = await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 1 })
    expect(claimed).toMatchObject({ id: 'soon', status: 'sending', attempts: 1 })
  })

  it('lets another owner take over a lease that expired, and the first owner then records nothing', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept([await message('orphan', { at: now - 1_000 })])
    await outbox.claimDue({ owner: 'dead', account: ANN, leaseMs: SHORT_LEASE_MS, limit: 1 })
    expect(await outbox.claimDue({ owner: 'heir', account: ANN, leaseMs: MINUTE, limit: 1 })).toEqual([])
    await wait(SHORT_LEASE_MS + 50)

    const [taken] = await outbox.claimDue({ owner: 'heir', account: ANN, leaseMs: MINUTE, limit: 1 })
    expect(taken).toMatchObject({ id: 'orphan', status: 'sending', attempts: 2, claim: { owner: 'heir' } })
    expect(await outbox.settle({ owner: 'dead', id: 'orphan', event: sentAt(now) })).toBeUndefined()
    expect(await outbox.renew({ owner: 'dead', ids: ['orphan'], leaseMs: MINUTE })).toEqual(['orphan'])
    expect(await outbox.get('orphan')).toEqual(taken)
    expect(await outbox.sentSince(ANN, now - MINUTE)).toEqual([])
  })

  it('renews the leases it holds, never shortening one, and names the ones it lost', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept(await messages('lease', 2, { at: now - 1_000 }))
    const [mine] = await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: SHORT_LEASE_MS, limit: 1 })
    const [theirs] = await outbox.claimDue({ owner: 'r2', account: ANN, leaseMs: MINUTE, limit: 1 })

    const before = await outbox.now()
    const lost = await outbox.renew({ owner: 'r1', ids: [mine!.id, 'unknown', theirs!.id], leaseMs: MINUTE })
    expect(lost).toEqual(['unknown', theirs!.id])
    const renewed = await outbox.get(mine!.id)
    expect(renewed?.claim?.owner).toBe('r1')
    expect(renewed!.claim!.until).toBeGreaterThanOrEqual(before + MINUTE)
    // Past the first lease: the renewal is what keeps it.
    await wait(SHORT_LEASE_MS + 50)
    expect(await outbox.claimDue({ owner: 'r3', account: ANN, leaseMs: MINUTE, limit: 5 })).toEqual([])
    expect(await outbox.renew({ owner: 'r1', ids: [mine!.id], leaseMs: 1 })).toEqual([])
    expect((await outbox.get(mine!.id))?.claim).toEqual(renewed!.claim)
    expect(await outbox.get(theirs!.id)).toEqual(theirs)
    expect(await outbox.renew({ owner: 'r1', ids: [], leaseMs: MINUTE })).toEqual([])
  })

  it("records the holder's outcome: sent, with its Gmail ids, the claim let go", async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept([await message('deliver', { at: now - 1_000 })])
    await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 1 })
    expect(await outbox.settle({ owner: 'r2', id: 'deliver', event: sentAt(now) })).toBeUndefined()
    expect(await outbox.settle({ owner: 'r1', id: 'nobody', event: sentAt(now) })).toBeUndefined()

    const sent = await outbox.settle({ owner: 'r1', id: 'deliver', event: sentAt(now) })
    expect(sent).toMatchObject({
      id: 'deliver',
      status: 'sent',
      sentAt: now,
      gmailMessageId: 'g-1',
      gmailThreadId: 't-1',
      attempts: 1,
      attemptLog: [{ at: now, outcome: 'sent' }],
    })
    expect(sent?.claim).toBeUndefined()
    expect(await outbox.get('deliver')).toEqual(sent)
    expect(await outbox.settle({ owner: 'r1', id: 'deliver', event: sentAt(now) })).toBeUndefined()
    expect(await outbox.sentSince(ANN, now - MINUTE)).toEqual([now])
  })

  it('gives a claim back unattempted, and fails a message for good', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept(await messages('outcome', 2, { at: now - 1_000 }))
    await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 2 })
    const back = await outbox.settle({
      owner: 'r1',
      id: 'outcome-000',
      event: { type: 'unlease', nextAttemptAt: now + MINUTE },
    })
    expect(back).toMatchObject({ status: 'queued', attempts: 0, nextAttemptAt: now + MINUTE })
    const error = { code: 'GMAIL_REJECTED', message: 'Gmail refused the message' }
    const failed = await outbox.settle({
      owner: 'r1',
      id: 'outcome-001',
      event: { type: 'fail', at: now, error },
    })
    expect(failed).toMatchObject({ status: 'failed', error, attempts: 1 })
    expect(await outbox.get('outcome-000')).toEqual(back)
    expect(await outbox.get('outcome-001')).toEqual(failed)
  })

  it('changes one message by the domain, refuses a move the domain refuses, and writes nothing then', async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept(await messages('change', 2, { at: now - 1_000 }))
    await expect(outbox.change('nobody', () => ({ type: 'cancel' }))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })
    const seen: number[] = []
    const canceled = await outbox.change('change-000', (stored, at) => {
      seen.push(at)
      return stored.status === 'queued' ? { type: 'cancel' } : undefined
    })
    expect(canceled).toMatchObject({ id: 'change-000', status: 'canceled' })
    expect(seen[0]).toBeGreaterThanOrEqual(now)
    expect(await outbox.get('change-000')).toEqual(canceled)
    expect(await outbox.change('change-000', () => undefined)).toEqual(canceled)

    await outbox.claimDue({ owner: 'r1', account: ANN, leaseMs: MINUTE, limit: 1 })
    const sent = await outbox.settle({ owner: 'r1', id: 'change-001', event: sentAt(now) })
    await expect(outbox.change('change-001', () => ({ type: 'cancel' }))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'The message is sent; only a queued, scheduled or held message can be canceled',
    })
    expect(await outbox.get('change-001')).toEqual(sent)
  })

  it("changes an account's messages in the given statuses only, oldest first, or none when one move is refused", async () => {
    const outbox = current()
    const now = await outbox.now()
    await outbox.accept([
      await message('held-1', { at: now - 5_000, connected: false }),
      await message('queued-1', { at: now - 4_000 }),
      await message('held-2', { at: now - 3_000, connected: false }),
      await message('scheduled-1', { at: now - 2_000, sendAt: now + MINUTE }),
      await message('bob-held', { at: now - 1_000, account: BOB, connected: false }),
    ])
    const release = (_: OutboxEntry, at: number): MailEvent => ({ type: 'release', at })

    await expect(outbox.changeAccount(ANN, ['held', 'queued'], release)).rejects.toMatchObject({
      code: 'CONFLICT',
    })
    expect(await outbox.get('held-1')).toMatchObject({ status: 'held' })
    expect(await outbox.get('held-2')).toMatchObject({ status: 'held' })

    const released = await outbox.changeAccount(ANN, ['held'], release)
    expect(ids(released)).toEqual(['held-1', 'held-2'])
    for (const entry of released) {
      expect(entry.status).toBe('queued')
      expect(await outbox.get(entry.id)).toEqual(entry)
    }
    expect(await outbox.get('queued-1')).toMatchObject({ status: 'queued', attemptLog: [] })
    expect(await outbox.get('scheduled-1')).toMatchObject({ status: 'scheduled' })
    expect(await outbox.get('bob-held')).toMatchObject({ status: 'held' })
    expect(await outbox.changeAccount(ANN, ['held'], release)).toEqual([])
    expect(await outbox.changeAccount(ANN, [], release)).toEqual([])
  })

  it('tells which accounts have work coming and when: due, scheduled, leased, never held', async () => {
    const outbox = current()
    const now = await outbox.now()
    const leasedAccount = 'leased@example.com'
    await outbox.accept([
      await message('due', { at: now - 1_000 }),
      await message('soon', { at: now - 900, account: BOB, sendAt: now + 2 * MINUTE }),
      await message('sooner', { at: now - 800, account: BOB, sendAt: now + MINUTE }),
      await message('leased', { at: now - 700, account: leasedAccount }),
      await message('held', { at: now - 600, account: 'held@example.com', connected: false }),
    ])
    const [leased] = await outbox.claimDue({ owner: 'r1', account: leasedAccount, leaseMs: MINUTE, limit: 1 })

    const work = await outbox.upcoming()
    expect(work.map((each) => each.account).sort()).toEqual([ANN, BOB, leasedAccount].sort())
    const at = (account: string) => work.find((each) => each.account === account)?.nextAt
    expect(at(ANN)).toBeLessThanOrEqual(now)
    expect(at(BOB)).toBe(now + MINUTE)
    expect(at(leasedAccount)).toBe(leased!.claim!.until)

    await outbox.settle({ owner: 'r1', id: 'leased', event: sentAt(now) })
    await outbox.change('due', () => ({ type: 'cancel' }))
    expect(await outbox.upcoming()).toEqual([{ account: BOB, nextAt: now + MINUTE }])
  })
}
