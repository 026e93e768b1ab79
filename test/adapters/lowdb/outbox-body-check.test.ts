/**
 * A body damaged on disk is not sent: the store checks it against the size
 * and SHA-256 its entry records, and the delivery engine fails the message
 * with BODY_DAMAGED instead of retrying. Entries stored before the digest
 * existed still send.
 */
import { createHash } from 'node:crypto'
import { readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openOutboxRepository } from '../../../src/adapters/lowdb/outbox-store.ts'
import { createDeliveryEngine } from '../../../src/app/delivery/engine.ts'
import { silentLogger } from '../../../src/app/logger.ts'
import { realScheduler } from '../../../src/app/scheduler.ts'
import type { OutboxEntry } from '../../../src/domain/mail/record.ts'
import { fakeGmail } from '../../fakes/gmail.ts'
import { makeClock, makeEntry, makeTempDir } from './fixtures.ts'

/** A body of 3,524 bytes, as in the report. */
function bodyOf(id: string): Uint8Array {
  const head = `Subject: ${id}\r\n\r\n`
  return new TextEncoder().encode(head + 'x'.repeat(3524 - head.length))
}

/** The entry as the service accepts it: real size and digest. */
function acceptedEntry(id: string, raw: Uint8Array): OutboxEntry {
  return makeEntry(id, { size: raw.length, bodySha256: createHash('sha256').update(raw).digest('hex') })
}

const bodyPath = (dataDir: string, id: string) => join(dataDir, 'messages', `${id}.eml`)

async function flipByte(path: string, at: number): Promise<void> {
  const bytes = await readFile(path)
  bytes[at] = bytes[at]! ^ 0x01
  await writeFile(path, bytes)
}

describe('openOutboxRepository: body checks', () => {
  it('refuses a body file cut short, and one of the right size with a flipped byte', async () => {
    const dataDir = await makeTempDir()
    const first = await openOutboxRepository({ dataDir, clock: makeClock() })
    const raws = { cut: bodyOf('cut'), flipped: bodyOf('flipped'), intact: bodyOf('intact') }
    await first.accept(Object.entries(raws).map(([id, raw]) => ({ entry: acceptedEntry(id, raw), raw })))
    // Stopped: the bodies are files of messages/.
    await first.close()
    const outbox = await openOutboxRepository({ dataDir, clock: makeClock() })
    await truncate(bodyPath(dataDir, 'cut'), 300)
    await flipByte(bodyPath(dataDir, 'flipped'), 2000)

    await expect(outbox.readRaw('cut')).rejects.toMatchObject({
      code: 'BODY_DAMAGED',
      retryable: false,
      message: 'The stored message body is damaged (size 300, expected 3524); the message was not sent',
    })
    await expect(outbox.readRaw('flipped')).rejects.toMatchObject({
      code: 'BODY_DAMAGED',
      message:
        'The stored message body is damaged (size 3524 as expected, but its SHA-256 digest differs); the message was not sent',
    })
    expect(await outbox.readRaw('intact')).toEqual(raws.intact)
  })

  it('reads the body of an entry stored without a digest as it is', async () => {
    const dataDir = await makeTempDir()
    const outbox = await openOutboxRepository({ dataDir, clock: makeClock() })
    const raw = bodyOf('old')
    // Stored before digests: the recorded size is not checked either.
    await outbox.accept([{ entry: makeEntry('old', { size: 1 }), raw }])
    expect(await outbox.readRaw('old')).toEqual(raw)
  })
})

describe('delivery of a damaged body', () => {
  it('fails it with BODY_DAMAGED, never sends it, and still sends the intact and the old ones', async () => {
    const dataDir = await makeTempDir()
    const clock = { now: () => Date.now() }
    const first = await openOutboxRepository({ dataDir, clock })
    const raws = { cut: bodyOf('cut'), flipped: bodyOf('flipped'), intact: bodyOf('intact') }
    await first.accept(Object.entries(raws).map(([id, raw]) => ({ entry: acceptedEntry(id, raw), raw })))
    await first.accept([{ entry: makeEntry('old', { size: 1 }), raw: bodyOf('old') }])
    await first.close()
    // Damaged while the service was stopped.
    await truncate(bodyPath(dataDir, 'cut'), 300)
    await flipByte(bodyPath(dataDir, 'flipped'), 100)

    const outbox = await openOutboxRepository({ dataDir, clock })
    const gmail = fakeGmail()
    const engine = createDeliveryEngine({
      outbox,
      gmail,
      clock,
      scheduler: realScheduler,
      random: () => 0.5,
      logger: silentLogger,
      limits: { perMinute: 0, perDay: 0 },
      concurrency: 4,
      giveUpAfterMs: 86_400_000,
      backoff: { baseMs: 10, capMs: 20 },
      onReauthorizationRequired: () => {},
    })
    await engine.start()
    for (const id of ['cut', 'flipped', 'intact', 'old']) await engine.waitForAttempt(id, 5_000)
    await engine.stop(1_000)

    for (const id of ['cut', 'flipped']) {
      const record = await outbox.get(id)
      expect(record).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'BODY_DAMAGED' } })
      expect(record?.attemptLog.map((attempt) => attempt.outcome)).toEqual(['failed'])
    }
    expect((await outbox.get('cut'))?.error?.message).toBe(
      'The stored message body is damaged (size 300, expected 3524); the message was not sent',
    )
    expect(await outbox.get('intact')).toMatchObject({ status: 'sent' })
    expect(await outbox.get('old')).toMatchObject({ status: 'sent' })
    expect(gmail.calls).toBe(2)
    expect(gmail.sent.map((message) => message.raw.split('\r\n')[0]).sort()).toEqual([
      'Subject: intact',
      'Subject: old',
    ])
    await outbox.close()
  })
})
