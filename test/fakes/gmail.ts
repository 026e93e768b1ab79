/** A Gmail port that records what it sends and fails as scripted. */

import { concatBytes } from '../../src/domain/bytes.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import type { GmailPort, MessageStream } from '../../src/domain/ports.ts'

export interface FakeGmail extends GmailPort {
  sent: Array<{ account: string; raw: string; threadId?: string; id: string }>
  /** Errors thrown by the next calls, in order. */
  failNext(...errors: ServiceError[]): void
  calls: number
}

export function fakeGmail(): FakeGmail {
  const queue: ServiceError[] = []
  const sent: FakeGmail['sent'] = []
  const gmail: FakeGmail = {
    sent,
    calls: 0,
    failNext: (...errors) => {
      queue.push(...errors)
    },
    async send(request) {
      gmail.calls++
      const error = queue.shift()
      if (error) throw error
      const id = `gm-${sent.length + 1}`
      const item: FakeGmail['sent'][number] = {
        account: request.account,
        raw: new TextDecoder().decode(await bytesOf(request.raw)),
        id,
      }
      if (request.threadId !== undefined) item.threadId = request.threadId
      sent.push(item)
      return { id, threadId: request.threadId ?? `th-${id}` }
    },
  }
  return gmail
}

/** The bytes of a message given whole or as a stream (read to its end, as Gmail's upload would). */
async function bytesOf(raw: Uint8Array | MessageStream): Promise<Uint8Array> {
  if (raw instanceof Uint8Array) return raw
  const chunks: Uint8Array[] = []
  for await (const chunk of raw.open()) chunks.push(chunk)
  return concatBytes(chunks)
}

export const rateLimited = (retryAfterMs?: number) =>
  new ServiceError('GMAIL_RATE_LIMITED', 'Gmail said 429', {
    retryable: true,
    ...(retryAfterMs ? { retryAfterMs } : {}),
  })
export const unavailable = () => new ServiceError('GMAIL_UNAVAILABLE', 'Gmail said 503', { retryable: true })
export const rejected = () => new ServiceError('GMAIL_REJECTED', 'Gmail said 400: invalid To header')
export const invalidGrant = () =>
  new ServiceError('REAUTHORIZATION_REQUIRED', 'Google refused the refresh token')
