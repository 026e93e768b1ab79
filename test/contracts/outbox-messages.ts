/**
 * Messages for the outbox contract, made the way the service makes them:
 * an entry moved in by the domain's `accept()`, with the real size and
 * SHA-256 of its raw body, at times the test takes from the store's clock.
 */
import { sha256Hex } from '../../src/app/input-hash.ts'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import { accept, type NewEntry } from '../../src/domain/mail/transition.ts'

export const ANN = 'ann@example.com'
export const BOB = 'bob@example.com'

export interface MessageOptions {
  /** Acceptance time, epoch ms (the store's clock, or before it). */
  at: number
  account?: string
  /** A later time makes the message scheduled. */
  sendAt?: number
  /** False: the account needs reauthorization, the message is held. */
  connected?: boolean
  idempotencyKey?: string
  inputHash?: string
  /** The id of the API key that accepted it. */
  apiKeyId?: string
  /** The raw body; a small RFC 5322 message naming the id by default. */
  raw?: Uint8Array
}

export interface Incoming {
  entry: OutboxEntry
  raw: Uint8Array
}

export function rawFor(id: string): Uint8Array {
  return new TextEncoder().encode(`Subject: ${id}\r\nTo: bob@example.com\r\n\r\nBody of ${id}\r\n`)
}

/** One message as acceptance hands it to the outbox. */
export async function message(id: string, options: MessageOptions): Promise<Incoming> {
  const account = options.account ?? ANN
  const raw = options.raw ?? rawFor(id)
  const draft: NewEntry = {
    id,
    account,
    from: `Sender <${account}>`,
    to: ['bob@example.com'],
    cc: [],
    bcc: ['hidden@example.com'],
    subject: `Message ${id}`,
    size: raw.byteLength,
    bodySha256: await sha256Hex(raw),
    messageId: `<${id}@example.com>`,
  }
  if (options.idempotencyKey !== undefined) {
    draft.idempotencyKey = options.idempotencyKey
    draft.inputHash = options.inputHash ?? 'hash-1'
  }
  if (options.apiKeyId !== undefined) draft.apiKeyId = options.apiKeyId
  const entry = accept(draft, {
    type: 'accept',
    at: options.at,
    sendAt: options.sendAt,
    accountConnected: options.connected ?? true,
  })
  return { entry, raw }
}

/** `count` queued messages `prefix-0`, `prefix-1`, … accepted 10 ms apart from `from`, oldest first. */
export async function messages(prefix: string, count: number, options: MessageOptions): Promise<Incoming[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      message(`${prefix}-${String(i).padStart(3, '0')}`, { ...options, at: options.at + i * 10 }),
    ),
  )
}
