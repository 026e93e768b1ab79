/**
 * A message whose attachments come as base64 in the input (the JSON path),
 * through the use cases on fakes: the use case lets go of the base64 once
 * decoded, asks for a full collection when there was at least
 * `RECLAIM_MIN_BYTES` of it, and still sends the same bytes; an idempotent
 * repeat is still told from a conflicting one by the attachments' content.
 */
import PostalMime from 'postal-mime'
import { describe, expect, it } from 'vitest'
import { RECLAIM_MIN_BYTES } from '../../src/app/prepare-message.ts'
import { isServiceError } from '../../src/domain/errors.ts'
import type { MailInput } from '../../src/domain/mail/input.ts'
import { randomBytes } from '../support/uploads.ts'
import { mailHarness } from './mail-harness.ts'

function harness() {
  const reclaims: number[] = []
  const h = mailHarness({ service: { reclaimMemory: () => reclaims.push(reclaims.length) } })
  return { ...h, reclaims }
}

function withAttachment(bytes: Uint8Array, extra: Partial<MailInput> = {}): MailInput {
  return {
    to: 'ann@example.org',
    subject: 'The archive',
    text: 'Attached.',
    attachments: [{ filename: 'archive.bin', content: Buffer.from(bytes).toString('base64') }],
    ...extra,
  }
}

async function attachmentSent(raw: string): Promise<Uint8Array> {
  const parsed = await PostalMime.parse(raw)
  return new Uint8Array(parsed.attachments[0]!.content as ArrayBuffer)
}

describe('attachments given as base64', () => {
  it('are let go of once decoded; a large input asks for a collection once, and its bytes go out unchanged', async () => {
    const h = harness()
    // Its base64 is just over the threshold.
    const bytes = randomBytes(Math.ceil((RECLAIM_MIN_BYTES * 3) / 4) + 3, 11)
    const input = withAttachment(bytes)
    const accepted = await h.mail.send(input)
    expect(input.attachments?.[0]).not.toHaveProperty('content')
    expect(input.attachments?.[0]?.filename).toBe('archive.bin')
    expect(h.reclaims).toHaveLength(1)
    await h.deliver()
    expect((await h.mail.get(accepted.id)).status).toBe('sent')
    expect(Buffer.from(await attachmentSent(h.gmail.sent[0]!.raw)).equals(Buffer.from(bytes))).toBe(true)
  })

  it('below the threshold are let go of too, with no collection asked', async () => {
    const h = harness()
    const input = withAttachment(randomBytes(4096, 12))
    await h.mail.send(input)
    expect(input.attachments?.[0]).not.toHaveProperty('content')
    expect(h.reclaims).toEqual([])
  })

  it('still tell a repeat of an idempotent call from a conflicting one', async () => {
    const h = harness()
    const bytes = randomBytes(4096, 13)
    const first = await h.mail.send(withAttachment(bytes, { idempotencyKey: 'order-7' }))
    const repeat = await h.mail.send(withAttachment(bytes, { idempotencyKey: 'order-7' }))
    expect(repeat.id).toBe(first.id)
    const other = h.mail.send(withAttachment(randomBytes(4096, 14), { idempotencyKey: 'order-7' }))
    await expect(other).rejects.toSatisfy((error) => isServiceError(error) && error.code === 'CONFLICT')
  })

  it('are kept when the input is refused before they are decoded', async () => {
    const h = harness()
    const input = withAttachment(randomBytes(64, 15), { to: 'not an address' })
    await expect(h.mail.send(input)).rejects.toSatisfy(
      (error) => isServiceError(error) && error.code === 'BAD_REQUEST',
    )
    expect(input.attachments?.[0]?.content).toBeTypeOf('string')
    expect(h.reclaims).toEqual([])
  })
})
