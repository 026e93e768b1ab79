/**
 * Opening a store whose files do not add up: a lost or older outbox.json,
 * bodies no record accounts for, an interrupted history append. Nothing
 * accepted is deleted, and every repair is told.
 */
import { appendFile, cp, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type NoticeListener, openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import { DAY, HOUR, makeClock, makeEntry, makeTempDir, rawOf, T0 } from './fixtures.ts'

interface Notice {
  message: string
  fields: Record<string, string | number> | undefined
}

async function openAt(dataDir: string, options: { now?: number } = {}) {
  const notices: Notice[] = []
  const onNotice: NoticeListener = (message, fields) => notices.push({ message, fields })
  const outbox = await openOutboxRepository({ dataDir, clock: makeClock(options.now ?? T0), onNotice })
  return { outbox, notices }
}

async function acceptOne(outbox: Awaited<ReturnType<typeof openAt>>['outbox'], entry: OutboxEntry) {
  await outbox.accept([{ entry, raw: rawOf(entry.id) }])
}

const messagesOf = async (dataDir: string) => (await readdir(join(dataDir, 'messages'))).sort()
const lostAndFoundOf = async (dataDir: string) => (await readdir(join(dataDir, 'lost+found'))).sort()
const finished = (id: string, status: 'sent' | 'failed', at: number) =>
  makeEntry(id, { status, updatedAt: at, attempts: 1, ...(status === 'sent' ? { sentAt: at } : {}) })

describe('openOutboxRepository: a missing outbox.json', () => {
  it('rebuilds the unfinished messages from their envelopes, keeps every body, and says so', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    const queued = makeEntry('m1', { idempotencyKey: 'k1', inputHash: 'h1' })
    const scheduled = makeEntry('m2', { status: 'scheduled', createdAt: T0 + 1, sendAt: T0 + HOUR })
    await acceptOne(outbox, queued)
    await acceptOne(outbox, scheduled)
    await acceptOne(outbox, makeEntry('m3'))
    await acceptOne(outbox, makeEntry('m4'))
    await outbox.update(finished('m3', 'sent', T0 + 1000))
    await outbox.update(finished('m4', 'failed', T0 + 1000))
    await outbox.close()
    await rm(join(dataDir, 'outbox.json'))

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect(await reopened.pending()).toEqual([queued, scheduled])
    expect(await reopened.readRaw('m1')).toEqual(rawOf('m1'))
    expect(await reopened.findByIdempotencyKey('k1', T0)).toEqual(queued)
    expect(await reopened.get('m3')).toMatchObject({ status: 'sent' })
    expect(await reopened.get('m4')).toMatchObject({ status: 'failed' })
    expect(await messagesOf(dataDir)).toEqual(['m1.eml', 'm1.json', 'm2.eml', 'm2.json', 'm4.eml', 'm4.json'])
    expect(notices).toEqual([
      {
        message: 'The outbox file was missing; rebuilt its unfinished messages from their stored envelopes',
        fields: { file: 'outbox.json', rebuilt: 2 },
      },
    ])

    // The rebuilt file is on disk: the next start has nothing to repair.
    await reopened.update({ ...queued, status: 'sent', sentAt: T0 + 5, updatedAt: T0 + 5 })
    await reopened.close()
    const again = await openAt(dataDir)
    expect(again.notices).toEqual([])
    expect((await again.outbox.pending()).map((entry) => entry.id)).toEqual(['m2'])
  })

  it('moves a body it cannot rebuild to lost+found instead of deleting it', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir, { now: T0 + 40 * DAY })
    await acceptOne(outbox, makeEntry('recent', { createdAt: T0 + 40 * DAY }))
    // Accepted 40 days ago: past the retention, so not sent out of the blue.
    await acceptOne(outbox, makeEntry('stale'))
    await outbox.close()
    // A body from before envelopes were stored, and a write cut short.
    await writeFile(join(dataDir, 'messages', 'old.eml'), rawOf('old'))
    await writeFile(join(dataDir, 'messages', 'new.eml.0b1c.tmp'), 'half')
    await rm(join(dataDir, 'outbox.json'))

    const { outbox: reopened, notices } = await openAt(dataDir, { now: T0 + 40 * DAY })
    expect((await reopened.pending()).map((entry) => entry.id)).toEqual(['recent'])
    expect(await messagesOf(dataDir)).toEqual(['recent.eml', 'recent.json'])
    expect(await lostAndFoundOf(dataDir)).toEqual(['old.eml', 'stale.eml', 'stale.json'])
    expect(notices).toEqual([
      {
        message: 'The outbox file was missing; rebuilt its unfinished messages from their stored envelopes',
        fields: { file: 'outbox.json', rebuilt: 1 },
      },
      { message: 'Removed interrupted writes of message bodies', fields: { folder: 'messages', count: 1 } },
      {
        message: 'Moved message bodies that no record accounts for aside; they will not be sent',
        fields: { folder: 'lost+found', count: 2, ids: 'old, stale' },
      },
    ])
  })

  it('starts a fresh store without a word', async () => {
    const { notices } = await openAt(await makeTempDir())
    expect(notices).toEqual([])
  })
})

describe('openOutboxRepository: an outbox.json older than the history', () => {
  it('rebuilds what was accepted after it, keeps the history, and says so', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await outbox.close()
    await cp(join(dataDir, 'outbox.json'), join(dataDir, 'backup.json'))
    const { outbox: later } = await openAt(dataDir)
    const acceptedLater = makeEntry('m2', { createdAt: T0 + 1 })
    await acceptOne(later, acceptedLater)
    await acceptOne(later, makeEntry('m3', { createdAt: T0 + 2 }))
    await later.update(finished('m3', 'failed', T0 + 1000))
    await later.close()
    // An operator puts back yesterday's copy.
    await cp(join(dataDir, 'backup.json'), join(dataDir, 'outbox.json'))

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect((await reopened.pending()).map((entry) => entry.id)).toEqual(['m1', 'm2'])
    expect(await reopened.get('m2')).toEqual(acceptedLater)
    expect(await reopened.get('m3')).toMatchObject({ status: 'failed' })
    expect(notices).toEqual([
      {
        message:
          'The outbox file is older than the history; rebuilt its missing unfinished messages from their stored envelopes',
        fields: { file: 'outbox.json', seq: 1, changedSince: 1, rebuilt: 1 },
      },
    ])
  })

  it('takes a crash between the history line and the live file for what it is, not an old file', async () => {
    const dataDir = await makeTempDir()
    const { outbox: first } = await openAt(dataDir)
    await acceptOne(first, makeEntry('m1'))
    await first.close()
    await cp(join(dataDir, 'outbox.json'), join(dataDir, 'before.json'))
    const { outbox } = await openAt(dataDir)
    await outbox.update(finished('m1', 'sent', T0 + 1000))
    await outbox.close()
    // The finish reached the history; the live file's rewrite did not (as the previous layout could leave it).
    await cp(join(dataDir, 'before.json'), join(dataDir, 'outbox.json'))

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect(await reopened.get('m1')).toMatchObject({ status: 'sent' })
    expect(await reopened.pending()).toEqual([])
    expect(notices).toEqual([
      {
        message: 'Dropped entries of the outbox file that the history shows finished (interrupted clean-up)',
        fields: { file: 'outbox.json', count: 1 },
      },
    ])
  })
})

describe('openOutboxRepository: other repairs on open', () => {
  it('moves the body of an interrupted acceptance aside rather than sending or deleting it', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await outbox.close()
    // Body and envelope written, the outbox file never updated: the caller never heard of it.
    await writeFile(join(dataDir, 'messages', 'cut.eml'), rawOf('cut'))
    await writeFile(join(dataDir, 'messages', 'cut.json'), JSON.stringify(makeEntry('cut')))
    await writeFile(join(dataDir, 'outbox.json.5f2e.tmp'), '{"version":1')

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect((await reopened.pending()).map((entry) => entry.id)).toEqual(['m1'])
    expect(await lostAndFoundOf(dataDir)).toEqual(['cut.eml', 'cut.json'])
    expect(await readdir(dataDir)).not.toContain('outbox.json.5f2e.tmp')
    expect(notices).toEqual([
      { message: 'Removed interrupted writes of the outbox file', fields: { file: 'outbox.json', count: 1 } },
      {
        message: 'Moved message bodies that no record accounts for aside; they will not be sent',
        fields: { folder: 'lost+found', count: 1, ids: 'cut' },
      },
    ])
  })

  it('removes the leftover body of a sent message and names unfinished ones without a body', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('sent'))
    await acceptOne(outbox, makeEntry('bodiless'))
    await outbox.update(finished('sent', 'sent', T0 + 1000))
    await outbox.close()
    // The clean-up after the send did not happen; another body was lost.
    await writeFile(join(dataDir, 'messages', 'sent.eml'), rawOf('sent'))
    await rm(join(dataDir, 'messages', 'bodiless.eml'))

    const { notices } = await openAt(dataDir)
    expect(await messagesOf(dataDir)).toEqual(['bodiless.json'])
    expect(notices).toEqual([
      {
        message: 'Removed the bodies of sent or canceled messages (interrupted clean-up)',
        fields: { folder: 'messages', count: 1 },
      },
      {
        message: 'Unfinished messages have no stored body; they will fail when their turn comes',
        fields: { folder: 'messages', count: 1, ids: 'bodiless' },
      },
    ])
  })

  it('names the file, line and id of a cut history line whose message has no other record', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await outbox.update(finished('m1', 'sent', T0 + 1000))
    await outbox.close()
    const segment = join(dataDir, 'history', '2026-05-10.jsonl')
    await appendFile(segment, '{"seq":7,"id":"ghost","account":"a')

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect(await reopened.get('ghost')).toBeUndefined()
    expect(notices).toEqual([
      {
        message:
          'Dropped an incomplete last line of the history (interrupted write); its message has no other record',
        fields: { file: 'history/2026-05-10.jsonl', line: 2, id: 'ghost' },
      },
    ])
  })

  it('names the file and line of a cut history line too short to name its message', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await outbox.close()
    await writeFile(join(dataDir, 'history', '2026-05-10.jsonl'), '{"se')
    await writeFile(join(dataDir, 'history', '2026-05-10.jsonl.9a.tmp'), 'x')

    const { notices } = await openAt(dataDir)
    expect(notices).toEqual([
      { message: 'Removed interrupted rewrites of the history', fields: { folder: 'history', count: 1 } },
      {
        message: 'Dropped an incomplete last line of the history (interrupted write)',
        fields: { file: 'history/2026-05-10.jsonl', line: 1 },
      },
    ])
  })
})
