import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import { HOUR, makeClock, makeEntry, makeTempDir, modeOf, rawOf, T0 } from './fixtures.ts'

async function openAt(dataDir: string, clock = makeClock(), options: { inlineBodyMaxBytes?: number } = {}) {
  return openOutboxRepository({ dataDir, clock, ...options })
}

async function acceptOne(outbox: Awaited<ReturnType<typeof openAt>>, entry: OutboxEntry): Promise<void> {
  await outbox.accept([{ entry, raw: rawOf(entry.id) }])
}

describe('openOutboxRepository: live messages', () => {
  it('keeps accepted messages and their bodies across a reopen', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    const first = makeEntry('m1', { idempotencyKey: 'key-1', inputHash: 'h1' })
    const second = makeEntry('m2', { status: 'scheduled', createdAt: T0 + 1, sendAt: T0 + HOUR })
    await outbox.accept([
      { entry: first, raw: rawOf('m1') },
      { entry: second, raw: rawOf('m2') },
    ])
    await outbox.close()

    const reopened = await openAt(dataDir)
    expect(await reopened.get('m1')).toEqual(first)
    expect(await reopened.get('m2')).toEqual(second)
    expect(await reopened.readRaw('m2')).toEqual(rawOf('m2'))
    expect(await reopened.pending()).toEqual([first, second])
    expect(await reopened.countByStatus()).toEqual({
      queued: 1,
      scheduled: 1,
      sending: 0,
      sent: 0,
      held: 0,
      failed: 0,
      canceled: 0,
    })
  })

  it('creates its folders 0700 and its files 0600', async () => {
    const dataDir = join(await makeTempDir(), 'data')
    const outbox = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    // Failed keeps its body, and its finished version goes to the history.
    await outbox.update(makeEntry('m1', { status: 'failed', updatedAt: T0 + 1 }))
    // The journal while it runs; the snapshot, the history and the body file once stopped.
    expect(await modeOf(join(dataDir, 'outbox.1.log'))).toBe(0o600)
    await outbox.close()

    for (const folder of [dataDir, join(dataDir, 'history'), join(dataDir, 'messages')]) {
      expect(await modeOf(folder)).toBe(0o700)
    }
    expect(await modeOf(join(dataDir, 'outbox.json'))).toBe(0o600)
    expect(await modeOf(join(dataDir, 'messages', 'm1.eml'))).toBe(0o600)
    const [segment] = await readdir(join(dataDir, 'history'))
    expect(await modeOf(join(dataDir, 'history', segment!))).toBe(0o600)
  })

  it('keeps the snapshot free of message bodies', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await outbox.close()
    expect(await readFile(join(dataDir, 'outbox.json'), 'utf8')).not.toContain('Body of m1')
    expect(await readFile(join(dataDir, 'messages', 'm1.eml'))).toEqual(Buffer.from(rawOf('m1')))
  })

  it('refuses a second message with an id already stored', async () => {
    const outbox = await openAt(await makeTempDir())
    await acceptOne(outbox, makeEntry('m1'))
    await expect(acceptOne(outbox, makeEntry('m1'))).rejects.toMatchObject({ code: 'CONFLICT' })
  })

  it('says NOT_FOUND for the body of an unknown message and for an update of one', async () => {
    const outbox = await openAt(await makeTempDir())
    await expect(outbox.readRaw('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(outbox.readRaw('../outbox.json')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(outbox.update(makeEntry('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await outbox.get('nope')).toBeUndefined()
  })

  it('stores concurrent updates of many messages, each durable when it resolves', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    const ids = Array.from({ length: 50 }, (_, index) => `m${index}`)
    await Promise.all(ids.map((id) => acceptOne(outbox, makeEntry(id))))
    await Promise.all(ids.map((id) => outbox.update(makeEntry(id, { status: 'sending', attempts: 1 }))))

    const reopened = await openAt(dataDir)
    expect((await reopened.pending()).map((entry) => [entry.id, entry.status])).toEqual(
      expect.arrayContaining(ids.map((id) => [id, 'sending'])),
    )
    expect((await reopened.countByStatus()).sending).toBe(50)
  })
})

describe('openOutboxRepository: accept is all or none', () => {
  it('stores no entry and no body when one body cannot be written', async () => {
    const dataDir = await makeTempDir()
    // Bodies above the inline limit are files, written before the record.
    const outbox = await openAt(dataDir, makeClock(), { inlineBodyMaxBytes: 0 })
    // A folder where the second body should go makes its rename fail.
    await mkdir(join(dataDir, 'messages', 'm2.eml'))

    await expect(
      outbox.accept([
        { entry: makeEntry('m1'), raw: rawOf('m1') },
        { entry: makeEntry('m2'), raw: rawOf('m2') },
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE' })

    expect(await outbox.get('m1')).toBeUndefined()
    expect(await readdir(join(dataDir, 'messages'))).toEqual(['m2.eml'])
    await rm(join(dataDir, 'messages', 'm2.eml'), { recursive: true })
    expect(await (await openAt(dataDir)).pending()).toEqual([])
  })

  it('removes the bodies when the journal record cannot be written, and stores the next acceptance', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir, makeClock(), { inlineBodyMaxBytes: 0 })
    // A folder in place of the first journal file makes its append fail.
    await mkdir(join(dataDir, 'outbox.1.log', 'blocker'), { recursive: true })

    await expect(
      outbox.accept([
        { entry: makeEntry('m1'), raw: rawOf('m1') },
        { entry: makeEntry('m2'), raw: rawOf('m2') },
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE', message: 'The store file outbox.1.log could not be written' })

    expect(await outbox.get('m1')).toBeUndefined()
    expect(await readdir(join(dataDir, 'messages'))).toEqual([])
    // The next append goes to a new journal file.
    await acceptOne(outbox, makeEntry('m3'))
    await rm(join(dataDir, 'outbox.1.log'), { recursive: true })
    const reopened = await openAt(dataDir)
    expect((await reopened.pending()).map((entry) => entry.id)).toEqual(['m3'])
    expect(await reopened.readRaw('m3')).toEqual(rawOf('m3'))
  })

  it('stores nothing of an acceptance whose inline record cannot be written', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    await mkdir(join(dataDir, 'outbox.1.log'))

    await expect(acceptOne(outbox, makeEntry('m1'))).rejects.toMatchObject({ code: 'STORAGE' })
    expect(await outbox.get('m1')).toBeUndefined()
    expect(await outbox.pending()).toEqual([])
    await acceptOne(outbox, makeEntry('m2'))
    expect((await outbox.pending()).map((entry) => entry.id)).toEqual(['m2'])
  })
})

describe('openOutboxRepository: lookups', () => {
  it('finds a message by idempotency key only within the window asked', async () => {
    const outbox = await openAt(await makeTempDir())
    await acceptOne(outbox, makeEntry('m1', { idempotencyKey: 'order-42', createdAt: T0 }))
    await outbox.update(
      makeEntry('m1', { idempotencyKey: 'order-42', status: 'sent', sentAt: T0 + 5, updatedAt: T0 + 5 }),
    )

    expect((await outbox.findByIdempotencyKey('order-42', T0 - 24 * HOUR))?.status).toBe('sent')
    expect(await outbox.findByIdempotencyKey('order-42', T0 + 1)).toBeUndefined()
    expect(await outbox.findByIdempotencyKey('other', 0)).toBeUndefined()
  })

  it('lists send times per account since a moment, from live and reopened history', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    const sends = [
      ['a1', 'ann@example.com', T0 + 1000],
      ['a2', 'ann@example.com', T0 + 3000],
      ['b1', 'bob@example.com', T0 + 2000],
    ] as const
    for (const [id, account, sentAt] of sends) {
      await acceptOne(outbox, makeEntry(id, { account }))
      await outbox.update(makeEntry(id, { account, status: 'sent', sentAt, updatedAt: sentAt }))
    }
    await acceptOne(outbox, makeEntry('a3'))
    await outbox.update(makeEntry('a3', { status: 'failed', updatedAt: T0 + 4000 }))

    expect(await outbox.sentSince('ann@example.com', T0)).toEqual([T0 + 1000, T0 + 3000])
    expect(await outbox.sentSince('ann@example.com', T0 + 2000)).toEqual([T0 + 3000])
    const reopened = await openAt(dataDir)
    expect(await reopened.sentSince('bob@example.com', T0)).toEqual([T0 + 2000])
    expect(await reopened.sentSince('carol@example.com', T0)).toEqual([])
  })
})
