/**
 * Attachments sent ahead, through the real HTTP server and a real tRPC
 * client, lowdb mode with the sandbox's emulator: `POST /uploads` streams
 * an attachment to DATA_DIR, `mail.send` names it, and Gmail receives the
 * message composed exactly as it would be with the attachment inline. The
 * refusals a caller meets: no key, the admin token, a key without
 * mail.send, too large, a checksum or length that does not match, an
 * upload of another key, one used already.
 */
import { readdir } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import PostalMime from 'postal-mime'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient, UploadError, uploadAttachment } from '../../src/client.ts'
import { MAX_UPLOAD_BYTES } from '../../src/domain/uploads/upload.ts'
import { waitFor } from '../support/delivery-wait.ts'
import { refusalOf } from '../support/refusal.ts'
import { type RunningService, startConnectedService, startService } from '../support/service.ts'
import { contentDigest, postUpload, randomBytes } from '../support/uploads.ts'

const sha256Hex = async (bytes: Uint8Array) =>
  Buffer.from(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)).toString('hex')

/** A message's bytes with what differs between two sends (Date, Message-ID, boundaries) made alike. */
function normalized(raw: Uint8Array): string {
  let text = Buffer.from(raw).toString('latin1')
  const boundaries = [...text.matchAll(/boundary="([^"]+)"/g)].map((match) => match[1]!)
  boundaries.forEach((boundary, index) => {
    text = text.replaceAll(boundary, `BOUNDARY-${index}`)
  })
  return text.replace(/^Date: .*$/m, 'Date: -').replace(/^Message-ID: .*$/m, 'Message-ID: -')
}

describe('uploads through the real server (lowdb, sandbox)', () => {
  let running: RunningService
  const raw = async (gmailMessageId: string) => running.service.sandbox!.control.message(gmailMessageId)!.raw

  beforeAll(async () => {
    running = await startConnectedService({ GMAIL_SENDS_PER_MINUTE: '0', SEND_WAIT_MS: '30000' })
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('sends a 35 MiB message composed from an upload, as it would be composed with the attachment inline', async () => {
    // The largest attachment that fits: the message is 35 MiB but for its headers.
    const bytes = randomBytes(MAX_UPLOAD_BYTES - 2_000)
    const answer = await postUpload(running.url, running.apiKey, bytes, { digest: contentDigest(bytes) })
    expect(answer.status).toBe(201)
    expect(answer.body).toMatchObject({ size: bytes.byteLength, sha256: await sha256Hex(bytes) })
    expect(Date.parse(answer.body.expiresAt!)).toBeGreaterThan(Date.now() + 23 * 3_600_000)
    const input = {
      to: 'ann@example.com',
      subject: 'The archive',
      text: 'The archive is attached.',
      attachments: [
        { filename: 'archive.bin', uploadId: answer.body.uploadId!, contentType: 'application/octet-stream' },
      ],
    }
    const record = await running.client.mail.send.mutate(input)
    expect(record.status).toBe('sent')
    const received = await raw(record.gmailMessageId!)
    expect(received.byteLength).toBeGreaterThan(36_000_000)
    expect(received.byteLength).toBeLessThanOrEqual(36_700_160)
    const parsed = await PostalMime.parse(received)
    expect(parsed.attachments[0]!.filename).toBe('archive.bin')
    expect(await sha256Hex(new Uint8Array(parsed.attachments[0]!.content as ArrayBuffer))).toBe(
      answer.body.sha256,
    )
    // The upload was used up: its files are gone.
    expect(await readdir(join(running.dataDir, 'uploads'))).toEqual([])
  })

  it('composes the same bytes from an upload (made with the typed client) as from the attachment given inline', async () => {
    const bytes = randomBytes(2_500_000, 3)
    const body = await uploadAttachment({
      url: running.url,
      apiKey: running.apiKey,
      body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
      sha256: await sha256Hex(bytes),
    })
    expect(body.size).toBe(bytes.byteLength)
    const common = { to: 'ann@example.com', subject: 'Same bytes', text: 'Twice.', html: '<p>Twice.</p>' }
    const byUpload = await running.client.mail.send.mutate({
      ...common,
      attachments: [{ filename: 'data.bin', uploadId: body.uploadId }],
    })
    const inline = await running.client.mail.send.mutate({
      ...common,
      attachments: [{ filename: 'data.bin', content: Buffer.from(bytes).toString('base64') }],
    })
    expect(normalized(await raw(byUpload.gmailMessageId!))).toBe(
      normalized(await raw(inline.gmailMessageId!)),
    )
  })

  it('refuses a caller without a key, the admin token, and a key that may not send, before reading the body', async () => {
    const bytes = randomBytes(1_000)
    expect(await postUpload(running.url, undefined, bytes)).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHORIZED' } },
    })
    expect(await postUpload(running.url, running.adminToken, bytes)).toMatchObject({ status: 401 })
    expect(await postUpload(running.url, 'not-a-key-0123456789abcdef', bytes)).toMatchObject({ status: 401 })
    const admin = createMailClient({ url: `${running.url}/trpc`, apiKey: running.adminToken, retries: 0 })
    const reader = await admin.admin.keys.create.mutate({
      name: 'Reader',
      scope: { procedures: ['mail.get'] },
    })
    const refused = await postUpload(running.url, reader.key, bytes)
    expect(refused.status).toBe(403)
    expect(refused.body.error!.message).toContain('mail.send')
  })

  it('refuses, keeping nothing, a body too large, one whose digest or length differs from its headers', async () => {
    const uploads = () => readdir(join(running.dataDir, 'uploads'))
    const tooLarge = await postUpload(running.url, running.apiKey, randomBytes(MAX_UPLOAD_BYTES + 1))
    expect(tooLarge).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } })
    // A declared length too large is refused from the headers, before a byte of the body is sent.
    const declared = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        `${running.url}/uploads`,
        {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${running.apiKey}`,
            'Content-Length': String(MAX_UPLOAD_BYTES + 1),
          },
        },
        (response) => {
          let text = ''
          response.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk
          })
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }))
        },
      )
      request.on('error', reject)
      request.flushHeaders()
    })
    expect(declared.status).toBe(413)
    expect(JSON.parse(declared.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } })
    const bytes = randomBytes(100_000)
    const mismatch = await postUpload(running.url, running.apiKey, bytes, {
      digest: contentDigest(randomBytes(100_000, 9)),
    })
    expect(mismatch).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } })
    const malformed = await postUpload(running.url, running.apiKey, bytes, { digest: 'md5=:abc:' })
    expect(malformed.status).toBe(400)
    const typed = await uploadAttachment({
      url: running.url,
      apiKey: running.apiKey,
      body: bytes,
      sha256: 'ab'.repeat(32),
    }).catch((error: unknown) => error)
    expect(typed).toBeInstanceOf(UploadError)
    expect(typed).toMatchObject({ code: 'BAD_REQUEST', status: 400 })
    expect(await uploads()).toEqual([])
  })

  it("refuses another key's upload and an upload used already, naming the attachment", async () => {
    const admin = createMailClient({ url: `${running.url}/trpc`, apiKey: running.adminToken, retries: 0 })
    const other = await admin.admin.keys.create.mutate({ name: 'Other team' })
    const theirs = await postUpload(running.url, other.key, randomBytes(5_000))
    const send = (uploadId: string) =>
      running.client.mail.send.mutate({
        to: 'ann@example.com',
        subject: 'x',
        text: 'y',
        attachments: [{ filename: 'f.bin', uploadId }],
      })
    expect(await refusalOf(send(theirs.body.uploadId!))).toMatchObject({
      code: 'BAD_REQUEST',
      httpStatus: 400,
    })
    const mine = await postUpload(running.url, running.apiKey, randomBytes(5_000))
    expect(await refusalOf(send(mine.body.uploadId!))).toBe('OK')
    const again = await refusalOf(send(mine.body.uploadId!))
    expect(again).toMatchObject({ code: 'BAD_REQUEST' })
    expect((again as { message: string }).message).toContain('attachments.0.uploadId')
    // Content and uploadId together are refused by the schema.
    expect(
      await refusalOf(
        running.client.mail.send.mutate({
          to: 'ann@example.com',
          subject: 'x',
          text: 'y',
          attachments: [{ filename: 'f.bin', uploadId: mine.body.uploadId!, content: 'AAAA' }],
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST' })
  })
})

describe('a message composed from an upload, across a restart (lowdb)', () => {
  it('is still sent after the service stops with it unsent, from the body it composed', async () => {
    const first = await startConnectedService({
      GMAIL_SENDS_PER_MINUTE: '0',
      SEND_WAIT_MS: '0',
      RETRY_BASE_MS: '200',
      RETRY_MAX_MS: '400',
    })
    let second: RunningService | undefined
    try {
      // Gmail is down: every attempt fails, and the message waits for its next retry (soon after the restart).
      first.service.sandbox!.control.setFaultRate('upload', {
        probability: 1,
        faults: [{ kind: 'status', status: 503 }],
      })
      const bytes = randomBytes(3_000_000, 21)
      const upload = await postUpload(first.url, first.apiKey, bytes)
      const accepted = await first.client.mail.send.mutate({
        to: 'ann@example.com',
        subject: 'Across a restart',
        text: 'x',
        attachments: [{ filename: 'kept.bin', uploadId: upload.body.uploadId! }],
      })
      await waitFor(
        async () =>
          (await first.client.mail.get.query({ id: accepted.id })).attempts >= 1 ? true : undefined,
        {
          what: 'the first attempt',
        },
      )
      await first.stop({ keepData: true })
      // The same DATA_DIR; the sandbox's Gmail is up again.
      second = await startService(
        { GMAIL_SENDS_PER_MINUTE: '0', SEND_WAIT_MS: '0' },
        { dataDir: first.dataDir },
      )
      const client = second.client
      const sent = await waitFor(
        async () => {
          const record = await client.mail.get.query({ id: accepted.id })
          return record.status === 'sent' ? record : undefined
        },
        { timeoutMs: 20_000, what: 'the message to be sent after the restart' },
      )
      const received = second.service.sandbox!.control.message(sent.gmailMessageId!)!.raw
      const parsed = await PostalMime.parse(received)
      expect(Buffer.from(parsed.attachments[0]!.content as ArrayBuffer).equals(Buffer.from(bytes))).toBe(true)
    } finally {
      await (second ?? first).stop()
    }
  })
})
