/**
 * What a delivery attempt hands Gmail: the message's bytes from the outbox,
 * or, for a message composed from uploads (`LARGE_BODY_MIN_BYTES` and
 * more), a stream of its body from the large-body store, read as it is sent
 * and checked against the size and SHA-256 recorded at acceptance. Both
 * delivery engines build their request here.
 */
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { GmailPort, OutboxRepository } from '../../domain/ports.ts'
import type { LargeBodyStore } from '../../domain/upload-ports.ts'
import { LARGE_BODY_MIN_BYTES } from '../../domain/uploads/upload.ts'

export type SendRequest = Parameters<GmailPort['send']>[0]

export interface BodySources {
  outbox: Pick<OutboxRepository, 'readRaw'>
  largeBodies?: Pick<LargeBodyStore, 'open'> | undefined
}

export async function sendRequestOf(
  entry: OutboxEntry,
  sources: BodySources,
  /** The bytes just composed and stored, handed to a first attempt that starts at once: not read back. */
  composed?: Uint8Array,
): Promise<SendRequest> {
  const request: SendRequest = { account: entry.account, raw: composed ?? (await bodyOf(entry, sources)) }
  if (entry.threadId !== undefined) request.threadId = entry.threadId
  return request
}

async function bodyOf(entry: OutboxEntry, sources: BodySources): Promise<SendRequest['raw']> {
  // Only messages this large can be in the large-body store: smaller ones pay no extra look-up.
  if (sources.largeBodies !== undefined && entry.size >= LARGE_BODY_MIN_BYTES) {
    const expected =
      entry.bodySha256 === undefined ? undefined : { size: entry.size, sha256: entry.bodySha256 }
    const stream = await sources.largeBodies.open(entry.id, expected)
    if (stream !== undefined) return stream
  }
  return sources.outbox.readRaw(entry.id)
}
