/** A Gmail port that records what it sends and fails as scripted. */
import { ServiceError } from '../../src/domain/errors.ts'
import type { GmailPort } from '../../src/domain/ports.ts'

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
        raw: new TextDecoder().decode(request.raw),
        id,
      }
      if (request.threadId !== undefined) item.threadId = request.threadId
      sent.push(item)
      return { id, threadId: request.threadId ?? `th-${id}` }
    },
  }
  return gmail
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
