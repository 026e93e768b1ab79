/**
 * The lowdb outbox's journal (src/adapters/lowdb/outbox-journal.ts), on
 * real files: what a call acknowledged is there on the next open though the
 * store was never closed; concurrent acceptances and outcomes share their
 * flushes; a torn last record is dropped and named, any other damage stops
 * the open; an inline body damaged in the journal is refused; the journal is
 * folded into the snapshot and the history as it grows and on close, and a
 * crash between the steps of a fold changes nothing on the next open.
 */
import { appendFile, copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeHistorySegment } from '../../../src/adapters/lowdb/history-segment.ts'
import { type NoticeListener, openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import { makeClock, makeEntry, makeTempDir, rawOf, T0 } from './fixtures.ts'

interface Notice {
  message: string
  fields: Record<string, string | number> | undefined
}

async function openAt(dataDir: string, options: { compactAfterBytes?: number } = {}) {
  const notices: Notice[] = []
  const onNotice: NoticeListener = (message, fields) => notices.push({ message, fields })
  const outbox = await openOutboxRepository({ dataDir, clock: makeClock(), onNotice, ...options })
  return { outbox, notices }
}

type Outbox = Awaited<ReturnType<typeof openAt>>['outbox']

const journalFiles = async (dataDir: string) =>
  (await readdir(dataDir)).filter((name) => /^outbox\.\d+\.log$/.test(name)).sort()
const sending = (id: string) => makeEntry(id, { status: 'sending', attempts: 1, updatedAt: T0 + 1 })
const sent = (id: string) =>
  makeEntry(id, { status: 'sent', attempts: 1, sentAt: T0 + 2, updatedAt: T0 + 2, gmailMessageId: `g-${id}` })

/** Accept, `sending`, `sent`: what the delivery engine writes for one message. */
async function deliver(outbox: Outbox, id: string): Promise<void> {
  await outbox.accept([{ entry: makeEntry(id), raw: rawOf(id) }])
  await outbox.update(sending(id))
  await outbox.update(sent(id))
}

describe('the lowdb outbox journal', () => {
  it('has every acknowledged acceptance and change on the next open, though the store was never closed', async () => {
    const dataDir = await makeTempDir()
    const { outbox: first } = await openAt(dataDir)
    await first.accept([
      { entry: makeEntry('queued'), raw: rawOf('queued') },
      { entry: makeEntry('failed'), raw: rawOf('failed') },
    ])
    await deliver(first, 'sent')
    await first.update(sending('queued'))
    await first.update(makeEntry('failed', { status: 'failed', attempts: 1, updatedAt: T0 + 3 }))
    expect(await journalFiles(dataDir)).toEqual(['outbox.1.log'])

    // The first store is left as a killed process leaves it.
    const { outbox, notices } = await openAt(dataDir)
    expect(notices).toEqual([])
    expect(await outbox.get('queued')).toEqual(sending('queued'))
    expect(await outbox.get('sent')).toEqual(sent('sent'))
    expect(await outbox.get('failed')).toMatchObject({ status: 'failed' })
    expect(await outbox.readRaw('queued')).toEqual(rawOf('queued'))
    expect(await outbox.readRaw('failed')).toEqual(rawOf('failed'))
    expect(await outbox.countByStatus()).toMatchObject({ sending: 1, sent: 1, failed: 1 })
  })

  it('lets 32 concurrent sends share their flushes: a few for all, not several each', async () => {
    const { outbox } = await openAt(await makeTempDir())
    const before = outbox.syncs()
    await Promise.all(Array.from({ length: 32 }, (_, index) => deliver(outbox, `m${index}`)))
    // Three journal writes (the acceptances, the `sending` marks, the outcomes) and the new file's folder sync.
    expect(outbox.syncs() - before).toBeLessThanOrEqual(6)
    expect((await outbox.countByStatus()).sent).toBe(32)
  })

  it('drops a torn last record, names it, and appends cleanly after it', async () => {
    const dataDir = await makeTempDir()
    const { outbox: first } = await openAt(dataDir)
    await first.accept([{ entry: makeEntry('m1'), raw: rawOf('m1') }])
    await first.update(sending('m1'))
    await appendFile(join(dataDir, 'outbox.1.log'), '{"puts":[{"seq":9,"entry":{"id":"ghost","account":"a')

    const { outbox: second, notices } = await openAt(dataDir)
    expect(notices).toEqual([
      {
        message:
          'Dropped an incomplete last record of the outbox journal (interrupted write); its message has no other record',
        fields: { file: 'outbox.1.log', line: 3, id: 'ghost' },
      },
    ])
    expect(await second.get('ghost')).toBeUndefined()
    expect(await second.get('m1')).toEqual(sending('m1'))
    await second.update(sent('m1'))

    const third = await openAt(dataDir)
    expect(third.notices).toEqual([])
    expect(await third.outbox.get('m1')).toEqual(sent('m1'))
  })

  it('says a message keeps its last whole record when the torn record was a change of it', async () => {
    const dataDir = await makeTempDir()
    const { outbox: first } = await openAt(dataDir)
    await first.accept([{ entry: makeEntry('m1'), raw: rawOf('m1') }])
    await appendFile(join(dataDir, 'outbox.1.log'), '{"puts":[{"seq":5,"entry":{"id":"m1","status":"se')

    const { outbox, notices } = await openAt(dataDir)
    expect(notices).toEqual([
      {
        message:
          'Dropped an incomplete last record of the outbox journal (interrupted write); its message keeps its last whole record',
        fields: { file: 'outbox.1.log', line: 2, id: 'm1', keptFrom: 'outbox journal' },
      },
    ])
    expect(await outbox.get('m1')).toEqual(makeEntry('m1'))
  })

  it('refuses to open on a damaged line before the end, naming the file and the line', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await deliver(outbox, 'm1')
    const path = join(dataDir, 'outbox.1.log')
    const lines = (await readFile(path, 'utf8')).split('\n')
    lines[1] = lines[1]!.slice(0, 40)
    await writeFile(path, lines.join('\n'))

    await expect(openAt(dataDir)).rejects.toMatchObject({
      code: 'STORAGE',
      message: 'The store file outbox.1.log is damaged at line 2',
    })
  })

  it('refuses an inline body changed or cut in the journal with BODY_DAMAGED', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    const body = (id: string) => new TextEncoder().encode(`Subject: ${id}\r\n\r\n${'x'.repeat(3000)}`)
    const { createHash } = await import('node:crypto')
    const entry = (id: string) =>
      makeEntry(id, {
        size: body(id).length,
        bodySha256: createHash('sha256').update(body(id)).digest('hex'),
      })
    for (const id of ['flipped', 'cut', 'intact']) await outbox.accept([{ entry: entry(id), raw: body(id) }])
    const path = join(dataDir, 'outbox.1.log')
    const lines = (await readFile(path, 'latin1')).split('\n')
    // Line 1: `flipped`, whose base64 gets one letter changed; line 2: `cut`, whose base64 loses its end.
    lines[0] = lines[0]!.replace(/"bodies":"(.{100})(.)/, (_, head: string, char: string) => {
      return `"bodies":"${head}${char === 'A' ? 'B' : 'A'}`
    })
    lines[1] = lines[1]!.replace(/.{40}"\}$/, `${' '.repeat(40)}"}`)
    await writeFile(path, lines.join('\n'), 'latin1')

    await expect(outbox.readRaw('flipped')).rejects.toMatchObject({
      code: 'BODY_DAMAGED',
      message: `The stored message body is damaged (size ${body('flipped').length} as expected, but its SHA-256 digest differs); the message was not sent`,
    })
    // Its last 40 base64 letters (of which the padding) gone: 28 bytes less.
    await expect(outbox.readRaw('cut')).rejects.toMatchObject({
      code: 'BODY_DAMAGED',
      message: `The stored message body is damaged (size ${body('cut').length - 28}, expected ${body('cut').length}); the message was not sent`,
    })
    expect(await outbox.readRaw('intact')).toEqual(body('intact'))
  })
})

describe('the lowdb outbox journal folded into the files', () => {
  it('folds the journal as it grows: finished ones to the history, long-lived bodies to files', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir, { compactAfterBytes: 4096 })
    await outbox.accept([
      { entry: makeEntry('waiting-1'), raw: rawOf('waiting-1') },
      { entry: makeEntry('waiting-2'), raw: rawOf('waiting-2') },
    ])
    for (let index = 0; index < 30; index++) await deliver(outbox, `m${index}`)
    // A sweep folds what the journal holds first (and drops nothing here).
    expect(await outbox.sweep()).toBe(0)

    expect((await journalFiles(dataDir)).length).toBeLessThanOrEqual(2)
    const history = await readFile(join(dataDir, 'history', '2026-05-10.jsonl'), 'utf8')
    expect(history.trimEnd().split('\n')).toHaveLength(30)
    // The two that outlived the first rounds left the journal for messages/.
    expect((await readdir(join(dataDir, 'messages'))).sort()).toEqual([
      'waiting-1.eml',
      'waiting-1.json',
      'waiting-2.eml',
      'waiting-2.json',
    ])
    const snapshot = JSON.parse(await readFile(join(dataDir, 'outbox.json'), 'utf8'))
    expect(Object.keys(snapshot.entries).sort()).toEqual(['waiting-1', 'waiting-2'])
    expect(await outbox.readRaw('waiting-2')).toEqual(rawOf('waiting-2'))

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect(notices).toEqual([])
    expect(await reopened.countByStatus()).toMatchObject({ queued: 2, sent: 30 })
    expect(await reopened.get('m29')).toEqual(sent('m29'))
  })

  it('leaves the files at rest on close: snapshot, history and body files, no journal', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await outbox.accept([{ entry: makeEntry('live'), raw: rawOf('live') }])
    await deliver(outbox, 'done')
    await outbox.close()

    expect(await journalFiles(dataDir)).toEqual([])
    expect((await readdir(join(dataDir, 'messages'))).sort()).toEqual(['live.eml', 'live.json'])
    expect(await readFile(join(dataDir, 'history', '2026-05-10.jsonl'), 'utf8')).toContain('"id":"done"')
    const reopened = await openAt(dataDir)
    expect(reopened.notices).toEqual([])
    expect(await reopened.outbox.readRaw('live')).toEqual(rawOf('live'))
  })

  it('does not add a finished version again that a fold put in the history before a crash', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await deliver(outbox, 'm1')
    // The fold's history append reached the disk (seq 3: the `sent` version), its snapshot did not.
    await writeHistorySegment({ dataDir, entries: [sent('m1')], firstSeq: 3 })

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect(notices).toEqual([])
    expect(await reopened.get('m1')).toEqual(sent('m1'))
    await reopened.close()
    const history = await readFile(join(dataDir, 'history', '2026-05-10.jsonl'), 'utf8')
    expect(history.trimEnd().split('\n')).toHaveLength(1)
  })

  it('skips the records a snapshot holds when a crash left their journal file behind', async () => {
    const dataDir = await makeTempDir()
    const { outbox } = await openAt(dataDir)
    await outbox.accept([{ entry: makeEntry('live'), raw: rawOf('live') }])
    await deliver(outbox, 'done')
    await copyFile(join(dataDir, 'outbox.1.log'), join(dataDir, 'kept.log'))
    await outbox.close()
    // The snapshot was written; the deletion of the journal file that it covers was not.
    await copyFile(join(dataDir, 'kept.log'), join(dataDir, 'outbox.1.log'))
    await rm(join(dataDir, 'kept.log'))

    const { outbox: reopened, notices } = await openAt(dataDir)
    expect(notices).toEqual([])
    expect(await reopened.get('live')).toEqual(makeEntry('live'))
    expect(await reopened.get('done')).toEqual(sent('done'))
    expect(await reopened.readRaw('live')).toEqual(rawOf('live'))
    await reopened.close()
    expect(await journalFiles(dataDir)).toEqual([])
    const history = await readFile(join(dataDir, 'history', '2026-05-10.jsonl'), 'utf8')
    expect(history.trimEnd().split('\n')).toHaveLength(1)
  })

  it('rebuilds from the journal and the envelopes when outbox.json is lost, and says so', async () => {
    const dataDir = await makeTempDir()
    const { outbox: first } = await openAt(dataDir)
    await first.accept([{ entry: makeEntry('at-rest'), raw: rawOf('at-rest') }])
    await first.close()
    const { outbox: second } = await openAt(dataDir)
    const recent: OutboxEntry = makeEntry('in-journal', { createdAt: T0 + 1 })
    await second.accept([{ entry: recent, raw: rawOf('in-journal') }])
    await rm(join(dataDir, 'outbox.json'))

    const { outbox, notices } = await openAt(dataDir)
    expect((await outbox.pending()).map((entry) => entry.id)).toEqual(['at-rest', 'in-journal'])
    expect(await outbox.readRaw('in-journal')).toEqual(rawOf('in-journal'))
    expect(notices).toEqual([
      {
        message: 'The outbox file was missing; rebuilt its unfinished messages from their stored envelopes',
        fields: { file: 'outbox.json', rebuilt: 1 },
      },
    ])
  })
})
