/**
 * Attachments sent ahead, through the use cases on fakes: a message
 * composed from an upload goes out with the upload's bytes, from the
 * large-body store as a stream when it is large; uploads are the caller's
 * key's, usable once, count against 35 MiB and expire unused; a call that
 * fails gives its uploads back; the janitor deletes what is no longer
 * needed. The clock is the test's.
 */
import { createHash } from 'node:crypto'
import PostalMime from 'postal-mime'
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/app/logger.ts'
import type { MailCaller } from '../../src/app/mail-service.ts'
import { createUploadJanitor } from '../../src/app/uploads/janitor.ts'
import { pacedUploads } from '../../src/app/uploads/stream-pacer.ts'
import { createUploadService } from '../../src/app/uploads/upload-service.ts'
import { isServiceError, ServiceError, storageFull } from '../../src/domain/errors.ts'
import type { MailInput } from '../../src/domain/mail/input.ts'
import { DEFAULT_UPLOAD_TTL_MS, MAX_UPLOAD_BYTES } from '../../src/domain/uploads/upload.ts'
import { manualTime } from '../fakes/clock.ts'
import { memoryLargeBodies, memoryUploadStore } from '../fakes/uploads.ts'
import { randomBytes } from '../support/uploads.ts'
import { mailHarness } from './mail-harness.ts'

const ANN: MailCaller = { keyId: 'key-ann' }
const BOB: MailCaller = { keyId: 'key-bob' }
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

function bytesOf(length: number, seed = 5): Uint8Array {
  return randomBytes(length, seed)
}

async function* chunksOf(bytes: Uint8Array, size = 65_536): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.slice(at, at + size)
}

function harness() {
  const time = manualTime()
  const store = memoryUploadStore(time)
  const bodies = memoryLargeBodies(time)
  const uploads = { store, bodies }
  const { outbox, gmail, mail, deliver } = mailHarness({ time, largeBodies: bodies, service: { uploads } })
  let uploadIds = 0
  const receiver = createUploadService({
    store,
    newUploadId: () => `up_test_${String(++uploadIds).padStart(12, '0')}`,
    ttlMs: DEFAULT_UPLOAD_TTL_MS,
  })
  const upload = (bytes: Uint8Array, caller: MailCaller = ANN) =>
    receiver.receive({ apiKeyId: caller.keyId, body: chunksOf(bytes) })
  const janitor = createUploadJanitor({ uploads, outbox, scheduler: time, logger: silentLogger })
  return { time, outbox, gmail, store, bodies, mail, receiver, upload, janitor, deliver }
}

const message = (
  attachments: NonNullable<MailInput['attachments']>,
  extra: Partial<MailInput> = {},
): MailInput => ({
  to: 'ann@example.org',
  subject: 'The archive',
  text: 'Attached.',
  attachments,
  ...extra,
})

/** The code and the issue paths of a refusal. */
async function refusal(promise: Promise<unknown>) {
  try {
    await promise
  } catch (error) {
    if (!isServiceError(error)) throw error
    return { code: error.code, paths: error.issues.map((issue) => issue.path), message: error.message }
  }
  throw new Error('Expected a refusal')
}

describe('a message composed from uploads', () => {
  it('goes out as a stream from the large-body store with the upload as its attachment, and the upload is used up', async () => {
    const h = harness()
    const bytes = bytesOf(3_000_000)
    const receipt = await h.upload(bytes)
    expect(receipt).toMatchObject({ size: bytes.byteLength, sha256: sha256(bytes) })
    const record = await h.mail.send(
      message([
        { filename: 'archive.bin', uploadId: receipt.uploadId, contentType: 'application/octet-stream' },
      ]),
      ANN,
    )
    // Its bytes are in the large-body store; the outbox holds the record only.
    expect(h.outbox.bodies.get(record.id)?.byteLength).toBe(0)
    const stored = h.bodies.all.get(record.id)!.bytes
    expect(record.size).toBe(stored.byteLength)
    expect(record.bodySha256).toBe(sha256(stored))
    expect(h.store.all.has(receipt.uploadId)).toBe(false)
    await h.deliver()
    expect((await h.outbox.get(record.id))?.status).toBe('sent')
    const sent = Buffer.from(h.gmail.sent[0]!.raw, 'latin1')
    const parsed = await PostalMime.parse(Buffer.from(h.gmail.sent[0]!.raw))
    expect(parsed.attachments[0]!.filename).toBe('archive.bin')
    expect(sha256(new Uint8Array(parsed.attachments[0]!.content as ArrayBuffer))).toBe(sha256(bytes))
    expect(sent.byteLength).toBeGreaterThan(0)
    // Sent: the janitor's next pass deletes the body.
    expect(await h.janitor.sweep()).toEqual({ uploads: 0, bodies: 1 })
    expect(h.bodies.all.size).toBe(0)
  })

  it('composes a small one in memory and stores it like any message', async () => {
    const h = harness()
    const bytes = bytesOf(10_000)
    const { uploadId } = await h.upload(bytes)
    const record = await h.mail.send(message([{ filename: 'small.bin', uploadId }]), ANN)
    expect(h.bodies.all.size).toBe(0)
    expect(h.outbox.bodies.get(record.id)?.byteLength).toBe(record.size)
    await h.deliver()
    const parsed = await PostalMime.parse(Buffer.from(h.gmail.sent[0]!.raw))
    expect(Buffer.from(parsed.attachments[0]!.content as ArrayBuffer).equals(Buffer.from(bytes))).toBe(true)
  })

  it('refuses, with the attachment named, an upload of another key, an unknown one, an expired one and one used already', async () => {
    const h = harness()
    const bobs = await h.upload(bytesOf(100), BOB)
    expect(
      await refusal(h.mail.send(message([{ filename: 'a', uploadId: bobs.uploadId }]), ANN)),
    ).toMatchObject({
      code: 'BAD_REQUEST',
      paths: ['attachments.0.uploadId'],
    })
    const unknown = await refusal(
      h.mail.send(message([{ filename: 'a', uploadId: 'up_never_made_000000001' }]), ANN),
    )
    expect(unknown).toMatchObject({ code: 'BAD_REQUEST', paths: ['attachments.0.uploadId'] })
    expect(unknown.message).toContain(
      'unknown, expired, already used by a message, or was made with another key',
    )

    const used = await h.upload(bytesOf(100))
    await h.mail.send(message([{ filename: 'a', uploadId: used.uploadId }]), ANN)
    expect(
      await refusal(h.mail.send(message([{ filename: 'b', uploadId: used.uploadId }]), ANN)),
    ).toMatchObject({
      code: 'BAD_REQUEST',
    })

    const late = await h.upload(bytesOf(100))
    h.time.set(late.expiresAt)
    expect(
      await refusal(h.mail.send(message([{ filename: 'a', uploadId: late.uploadId }]), ANN)),
    ).toMatchObject({
      code: 'BAD_REQUEST',
    })
    // Bob's own key may use Bob's upload: it was not spent by Ann's refused call.
    h.time.set(bobs.expiresAt - 1)
    await expect(
      h.mail.send(message([{ filename: 'a', uploadId: bobs.uploadId }]), BOB),
    ).resolves.toHaveProperty('attempts')
  })

  it('counts uploads against the 35 MiB limit before reading them, and gives them back when refused', async () => {
    const h = harness()
    const big = await h.upload(bytesOf(14_000_000, 1))
    const bigger = await h.upload(bytesOf(14_000_000, 2))
    const twice = message([
      { filename: 'one.bin', uploadId: big.uploadId },
      { filename: 'two.bin', uploadId: bigger.uploadId },
    ])
    expect(await refusal(h.mail.send(twice, ANN))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    expect(h.bodies.all.size).toBe(0)
    // Given back: each still makes a message of its own.
    await h.mail.send(message([{ filename: 'one.bin', uploadId: big.uploadId }]), ANN)
    await h.mail.send(message([{ filename: 'two.bin', uploadId: bigger.uploadId }]), ANN)
    expect(h.bodies.all.size).toBe(2)
  })

  it('answers a repeated call with its idempotency key with the same message, though its upload is used', async () => {
    const h = harness()
    const { uploadId } = await h.upload(bytesOf(2_000_000))
    const input = message([{ filename: 'a.bin', uploadId }], { idempotencyKey: 'order-7' })
    const first = await h.mail.send(input, ANN)
    const again = await h.mail.send(input, ANN)
    expect(again.id).toBe(first.id)
    expect(h.bodies.all.size).toBe(1)
    // The same key with another message is still a conflict.
    expect(await refusal(h.mail.send({ ...input, subject: 'Other' }, ANN))).toMatchObject({
      code: 'CONFLICT',
    })
  })

  it('accepts nothing of a batch with a bad message, and gives its uploads back', async () => {
    const h = harness()
    const { uploadId } = await h.upload(bytesOf(2_000_000))
    const failed = await refusal(
      h.mail.sendBatch(
        [message([{ filename: 'a.bin', uploadId }]), message([], { to: 'not an address' })],
        ANN,
      ),
    )
    expect(failed).toMatchObject({ code: 'BAD_REQUEST', paths: ['messages.1.to'] })
    expect(h.outbox.entries.size).toBe(0)
    expect(h.bodies.all.size).toBe(0)
    await expect(h.mail.send(message([{ filename: 'a.bin', uploadId }]), ANN)).resolves.toHaveProperty(
      'attempts',
    )
  })

  it('fails, unsent, a message whose large body was damaged in storage', async () => {
    const h = harness()
    const { uploadId } = await h.upload(bytesOf(2_000_000))
    const record = await h.mail.send(message([{ filename: 'a.bin', uploadId }]), ANN)
    const stored = h.bodies.all.get(record.id)!.bytes
    stored[stored.byteLength - 10]! ^= 1
    await h.deliver()
    expect(await h.outbox.get(record.id)).toMatchObject({ status: 'failed', error: { code: 'BODY_DAMAGED' } })
    expect(h.gmail.sent).toEqual([])
  })
})

describe('the upload use case', () => {
  it('refuses an upload past its limit as it arrives, and keeps nothing', async () => {
    const h = harness()
    const small = createUploadService({
      store: h.store,
      newUploadId: () => 'up_capped_00000000001',
      ttlMs: 60_000,
      maxBytes: 1000,
    })
    expect(await refusal(small.receive({ apiKeyId: 'k', body: chunksOf(bytesOf(1001), 100) }))).toMatchObject(
      {
        code: 'PAYLOAD_TOO_LARGE',
      },
    )
    expect(
      await refusal(small.receive({ apiKeyId: 'k', body: chunksOf(bytesOf(10)), declaredSize: 1001 })),
    ).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    })
    expect(h.store.all.size).toBe(0)
    expect(h.receiver.maxBytes).toBe(MAX_UPLOAD_BYTES)
  })

  it('refuses bytes whose SHA-256 or length is not what the client said, and keeps nothing', async () => {
    const h = harness()
    const bytes = bytesOf(5000)
    const wrongDigest = await refusal(
      h.receiver.receive({ apiKeyId: 'k', body: chunksOf(bytes), expectedSha256: sha256(bytesOf(5000, 9)) }),
    )
    expect(wrongDigest).toMatchObject({ code: 'BAD_REQUEST' })
    expect(wrongDigest.message).toContain('nothing was kept')
    expect(
      await refusal(h.receiver.receive({ apiKeyId: 'k', body: chunksOf(bytes), declaredSize: 4000 })),
    ).toMatchObject({
      code: 'BAD_REQUEST',
    })
    expect(
      await refusal(h.receiver.receive({ apiKeyId: 'k', body: chunksOf(bytes), declaredSize: 6000 })),
    ).toMatchObject({
      code: 'BAD_REQUEST',
    })
    expect(h.store.all.size).toBe(0)
    await expect(
      h.receiver.receive({
        apiKeyId: 'k',
        body: chunksOf(bytes),
        expectedSha256: sha256(bytes),
        declaredSize: 5000,
      }),
    ).resolves.toMatchObject({ size: 5000 })
  })
})

describe('the upload use case with a full disk', () => {
  it('refuses an upload with STORAGE_FULL before it reads a byte', async () => {
    const h = harness()
    let read = false
    async function* body(): AsyncGenerator<Uint8Array> {
      read = true
      yield bytesOf(10)
    }
    const full = createUploadService({
      store: h.store,
      newUploadId: () => 'up_full_disk_0000000001',
      ttlMs: 60_000,
      storage: { assertRoomForNewMail: () => Promise.reject(storageFull()), writeFailed: () => {} },
    })
    expect(await refusal(full.receive({ apiKeyId: 'k', body: body() }))).toMatchObject({
      code: 'STORAGE_FULL',
    })
    expect(read).toBe(false)
    expect(h.store.all.size).toBe(0)
  })
})

describe('the upload janitor', () => {
  it('deletes unused uploads once their day is over, on its timer', async () => {
    const h = harness()
    const early = await h.upload(bytesOf(100))
    await h.time.advance(12 * 3_600_000)
    const later = await h.upload(bytesOf(100))
    h.janitor.start()
    await h.time.advance(12 * 3_600_000)
    expect(h.store.all.has(early.uploadId)).toBe(false)
    expect(h.store.all.has(later.uploadId)).toBe(true)
    await h.time.advance(12 * 3_600_000)
    expect(h.store.all.size).toBe(0)
    h.janitor.stop()
  })

  it('keeps the body of a failed message (it may be retried) and drops one no message claims after an hour', async () => {
    const h = harness()
    const { uploadId } = await h.upload(bytesOf(2_000_000))
    h.gmail.failNext(new ServiceError('GMAIL_REJECTED', 'Gmail said 400'))
    const record = await h.mail.send(message([{ filename: 'a.bin', uploadId }]), ANN)
    await h.deliver()
    expect((await h.outbox.get(record.id))?.status).toBe('failed')
    await h.bodies.write('msg-never-accepted', chunksOf(bytesOf(10)))
    expect(await h.janitor.sweep()).toEqual({ uploads: 0, bodies: 0 })
    h.time.set(h.time.now() + 3_600_000)
    expect(await h.janitor.sweep()).toEqual({ uploads: 0, bodies: 1 })
    expect([...h.bodies.all.keys()]).toEqual([record.id])
  })
})

describe('the stream pacer', () => {
  it('hears every byte that passes through the stores, after its chunk was used', async () => {
    const h = harness()
    const heard: number[] = []
    const paced = pacedUploads({ store: h.store, bodies: h.bodies }, { passed: (bytes) => heard.push(bytes) })
    const receipt = await paced.store.put({
      uploadId: 'up_paced_00000000001',
      apiKeyId: 'k',
      chunks: chunksOf(bytesOf(100_000), 40_000),
      ttlMs: 60_000,
    })
    expect(heard).toEqual([40_000, 40_000, 20_000])
    heard.length = 0
    for await (const _ of paced.store.read(receipt.uploadId));
    expect(heard.reduce((sum, bytes) => sum + bytes, 0)).toBe(100_000)
    heard.length = 0
    await paced.bodies.write('msg-paced', chunksOf(bytesOf(70_000), 50_000))
    const stream = await paced.bodies.open('msg-paced')
    for await (const _ of stream!.open());
    expect(heard.reduce((sum, bytes) => sum + bytes, 0)).toBe(140_000)
    expect(
      await paced.store.claim({ uploadId: receipt.uploadId, apiKeyId: 'k', messageId: 'm' }),
    ).toMatchObject({ size: 100_000 })
  })
})
