import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeHistorySegment } from '../../../src/adapters/lowdb/history-segment.ts'
import { type NoticeListener, openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import { DAY, HOUR, makeClock, makeEntry, makeTempDir, rawOf, T0 } from './fixtures.ts'

type Outbox = Awaited<ReturnType<typeof openOutboxRepository>>

function openAt(
  dataDir: string,
  options: { now?: number; onNotice?: NoticeListener; inlineBodyMaxBytes?: number } = {},
) {
  return openOutboxRepository({
    dataDir,
    clock: makeClock(options.now ?? T0),
    ...(options.onNotice === undefined ? {} : { onNotice: options.onNotice }),
    ...(options.inlineBodyMaxBytes === undefined ? {} : { inlineBodyMaxBytes: options.inlineBodyMaxBytes }),
  })
}

async function acceptOne(outbox: Outbox, entry: OutboxEntry): Promise<void> {
  await outbox.accept([{ entry, raw: rawOf(entry.id) }])
}

async function historyText(dataDir: string): Promise<string> {
  const folder = join(dataDir, 'history')
  const names = (await readdir(folder)).sort()
  return (await Promise.all(names.map((name) => readFile(join(folder, name), 'utf8')))).join('')
}

const sent = (id: string, at: number, extra: Partial<OutboxEntry> = {}) =>
  makeEntry(id, {
    status: 'sent',
    sentAt: at,
    updatedAt: at,
    attempts: 1,
    gmailMessageId: `g-${id}`,
    ...extra,
  })

describe('openOutboxRepository: history', () => {
  it('moves a finished message from the live file to the history and drops its body', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await outbox.update(sent('m1', T0 + 1000))
    // The history line is durable when update resolves; the tidy-up finishes by close.
    await outbox.close()

    expect(await readFile(join(dataDir, 'outbox.json'), 'utf8')).not.toContain('m1')
    expect(await readdir(join(dataDir, 'history'))).toEqual(['2026-05-10.jsonl'])
    expect(await historyText(dataDir)).toContain('"id":"m1"')
    await expect(outbox.readRaw('m1')).rejects.toMatchObject({ code: 'NOT_FOUND' })

    const reopened = await openAt(dataDir)
    expect(await reopened.get('m1')).toEqual(sent('m1', T0 + 1000))
    expect(await reopened.pending()).toEqual([])
    expect((await reopened.countByStatus()).sent).toBe(1)
  })

  it('keeps the body of a failed message and drops that of a canceled one', async () => {
    const outbox = await openAt(await makeTempDir())
    await acceptOne(outbox, makeEntry('failed'))
    await acceptOne(outbox, makeEntry('canceled'))
    await outbox.update(makeEntry('failed', { status: 'failed', updatedAt: T0 + 1 }))
    await outbox.update(makeEntry('canceled', { status: 'canceled', updatedAt: T0 + 1 }))
    await outbox.close()

    expect(await outbox.readRaw('failed')).toEqual(rawOf('failed'))
    await expect(outbox.readRaw('canceled')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('moves a retried failed message back to the live outbox, and the latest state wins on reopen', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await outbox.update(makeEntry('m1', { status: 'failed', attempts: 5, updatedAt: T0 + 1000 }))
    // Same updatedAt on purpose: the order of changes, not the clock, decides.
    await outbox.update(makeEntry('m1', { status: 'queued', attempts: 5, updatedAt: T0 + 1000 }))

    expect((await outbox.pending()).map((entry) => entry.id)).toEqual(['m1'])
    const reopened = await openAt(dataDir)
    expect(await reopened.get('m1')).toMatchObject({ status: 'queued' })
    expect(await reopened.readRaw('m1')).toEqual(rawOf('m1'))

    await reopened.update(sent('m1', T0 + 2000, { attempts: 6 }))
    const again = await openAt(dataDir)
    expect(await again.get('m1')).toMatchObject({ status: 'sent', attempts: 6 })
    expect(await again.pending()).toEqual([])
    expect(await again.countByStatus()).toMatchObject({ failed: 0, sent: 1, queued: 0 })
  })

  it('takes the finished version when a crash left the message in both files', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await outbox.close()
    // The history append happened (seq 2 > 1), the live rewrite did not.
    await writeHistorySegment({ dataDir, entries: [sent('m1', T0 + 1000)], firstSeq: 2 })

    const reopened = await openAt(dataDir)
    expect(await reopened.get('m1')).toEqual(sent('m1', T0 + 1000))
    expect(await reopened.pending()).toEqual([])
    expect(await readFile(join(dataDir, 'outbox.json'), 'utf8')).not.toContain('m1')
    // The body of a sent message is cleaned up on open.
    expect(await readdir(join(dataDir, 'messages'))).toEqual([])
  })

  it('lists newest first across live and finished messages, by status, page by page', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    const statuses = ['sent', 'queued', 'failed', 'sent', 'held', 'sent', 'canceled'] as const
    for (const [index, status] of statuses.entries()) {
      const id = `m${index}`
      await acceptOne(outbox, makeEntry(id, { createdAt: T0 + index * 1000 }))
      if (status !== 'queued') {
        await outbox.update(
          makeEntry(id, { status, createdAt: T0 + index * 1000, updatedAt: T0 + 10_000 + index }),
        )
      }
    }

    for (const store of [outbox, await openAt(dataDir)]) {
      const first = await store.list({ limit: 3 })
      expect(first.items.map((entry) => entry.id)).toEqual(['m6', 'm5', 'm4'])
      const second = await store.list({ limit: 3, cursor: first.nextCursor! })
      expect(second.items.map((entry) => entry.id)).toEqual(['m3', 'm2', 'm1'])
      const third = await store.list({ limit: 3, cursor: second.nextCursor! })
      expect(third.items.map((entry) => entry.id)).toEqual(['m0'])
      expect(third.nextCursor).toBeUndefined()

      const sentFirst = await store.list({ status: 'sent', limit: 2 })
      expect(sentFirst.items.map((entry) => [entry.id, entry.status])).toEqual([
        ['m5', 'sent'],
        ['m3', 'sent'],
      ])
      const sentRest = await store.list({ status: 'sent', limit: 2, cursor: sentFirst.nextCursor! })
      expect(sentRest.items.map((entry) => entry.id)).toEqual(['m0'])
      expect(sentRest.nextCursor).toBeUndefined()
    }
  })

  it('reads finished messages back by byte range past non-ASCII text', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    const subjects = ['Grüße aus Köln 🚀', 'Plain subject', 'Ça va? 日本語']
    for (const [index, subject] of subjects.entries()) {
      await acceptOne(outbox, makeEntry(`m${index}`, { subject }))
      await outbox.update(sent(`m${index}`, T0 + index, { subject }))
    }
    for (const store of [outbox, await openAt(dataDir)]) {
      expect((await store.list({ limit: 10 })).items.map((entry) => entry.subject).sort()).toEqual(
        [...subjects].sort(),
      )
      expect(await store.get('m2')).toMatchObject({ subject: 'Ça va? 日本語' })
    }
  })

  it('refuses a cursor it did not make', async () => {
    const outbox = await openAt(await makeTempDir())
    await expect(outbox.list({ limit: 10, cursor: 'garbage!' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    })
  })

  it('drops a last history line cut short by a crash, and appends cleanly after it', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openAt(dataDir)
    await acceptOne(outbox, makeEntry('m1'))
    await acceptOne(outbox, makeEntry('m2'))
    await outbox.update(sent('m1', T0 + 1000))
    await outbox.close()
    const segment = join(dataDir, 'history', '2026-05-10.jsonl')
    await appendFile(segment, '{"seq":99,"id":"m2","account":"ann@exa')

    const notices: unknown[] = []
    const reopened = await openAt(dataDir, {
      onNotice: (message, fields) => notices.push({ message, fields }),
    })
    // Named by file, line and id; the live version in outbox.json wins.
    expect(notices).toEqual([
      {
        message:
          'Dropped an incomplete last line of the history (interrupted write); its message keeps its last whole record',
        fields: { file: 'history/2026-05-10.jsonl', line: 2, id: 'm2', keptFrom: 'outbox.json' },
      },
    ])
    expect(await reopened.get('m2')).toMatchObject({ status: 'queued' })
    await reopened.update(sent('m2', T0 + 2000))

    const again = await openAt(dataDir)
    expect(await again.get('m1')).toMatchObject({ status: 'sent' })
    expect(await again.get('m2')).toMatchObject({ status: 'sent', sentAt: T0 + 2000 })
    expect((await readFile(segment, 'utf8')).split('\n')).toHaveLength(3)
  })

  it('refuses a corrupt line inside a history segment', async () => {
    const dataDir = await makeTempDir()
    await writeHistorySegment({ dataDir, entries: [sent('m1', T0)] })
    await appendFile(join(dataDir, 'history', '2026-05-10.jsonl'), 'not json\n')
    await writeHistorySegment({ dataDir, entries: [sent('m2', T0)], firstSeq: 2 })

    await expect(openAt(dataDir)).rejects.toMatchObject({
      code: 'STORAGE',
      message: 'The history file 2026-05-10.jsonl has a corrupt line 2',
    })
  })

  it('indexes a history written directly as segments', async () => {
    const dataDir = await makeTempDir()
    const entries = Array.from({ length: 20 }, (_, index) =>
      sent(`h${index}`, T0 - index * HOUR, { createdAt: T0 - index * HOUR - 1000 }),
    )
    await writeHistorySegment({ dataDir, entries })

    const outbox = await openAt(dataDir)
    expect((await outbox.countByStatus()).sent).toBe(20)
    expect((await outbox.list({ limit: 2 })).items.map((entry) => entry.id)).toEqual(['h0', 'h1'])
    expect(await outbox.get('h13')).toEqual(entries[13])
    expect(await outbox.sentSince('ann@example.com', T0 - 2 * HOUR)).toEqual([T0 - 2 * HOUR, T0 - HOUR, T0])
  })
})

describe('openOutboxRepository: retention sweep', () => {
  it('drops finished messages older than the retention, with their files, and keeps the rest', async () => {
    const dataDir = await makeTempDir()
    const now = T0 + 40 * DAY
    const cutoff = now - 30 * DAY // T0 + 10 days, 12:00 UTC
    // Bodies as files, to see which ones go.
    const outbox = await openAt(dataDir, { now, inlineBodyMaxBytes: 0 })
    const finishes: Array<[string, OutboxEntry['status'], number]> = [
      ['old-sent', 'sent', T0],
      ['old-failed', 'failed', T0 + HOUR],
      ['edge-expired', 'sent', cutoff - 6 * HOUR],
      ['edge-kept', 'failed', cutoff + 6 * HOUR],
      ['recent', 'canceled', now - DAY],
    ]
    for (const [id, status, at] of finishes) {
      await acceptOne(outbox, makeEntry(id, { createdAt: at - 1000 }))
      await outbox.update(
        makeEntry(id, {
          status,
          createdAt: at - 1000,
          updatedAt: at,
          ...(status === 'sent' ? { sentAt: at } : {}),
        }),
      )
    }
    await acceptOne(outbox, makeEntry('live', { createdAt: T0 }))

    expect(await outbox.sweep()).toBe(3)

    expect(await readdir(join(dataDir, 'history'))).toEqual(['2026-05-20.jsonl', '2026-06-18.jsonl'])
    expect((await readdir(join(dataDir, 'messages'))).sort()).toEqual([
      'edge-kept.eml',
      'edge-kept.json',
      'live.eml',
      'live.json',
    ])
    for (const store of [outbox, await openAt(dataDir, { now })]) {
      expect(await store.get('old-failed')).toBeUndefined()
      expect(await store.get('edge-expired')).toBeUndefined()
      expect(await store.get('edge-kept')).toMatchObject({ status: 'failed', updatedAt: cutoff + 6 * HOUR })
      expect(await store.get('recent')).toMatchObject({ status: 'canceled' })
      expect((await store.list({ limit: 10 })).items.map((entry) => entry.id)).toEqual([
        'recent',
        'edge-kept',
        'live',
      ])
      expect(await store.countByStatus()).toMatchObject({ sent: 0, failed: 1, canceled: 1, queued: 1 })
    }
    expect(await outbox.sweep()).toBe(0)
  })

  it('refuses changes after close', async () => {
    const outbox = await openAt(await makeTempDir())
    await outbox.close()
    await expect(acceptOne(outbox, makeEntry('m1'))).rejects.toMatchObject({ code: 'STORAGE' })
  })

  it('refuses a corrupt live file rather than starting empty', async () => {
    const dataDir = await makeTempDir()
    await writeFile(join(dataDir, 'outbox.json'), '{"version":1,"entries":{')
    await expect(openAt(dataDir)).rejects.toMatchObject({
      code: 'STORAGE',
      message: 'The store file outbox.json is not valid JSON',
    })
  })
})
