/**
 * The emulated Sent folder: every accepted message, and which threads each
 * account has, so that a reply's `threadId` is kept only when it exists.
 */
import type { IdSource } from './ids.ts'
import type { MessageSummary } from './mime-summary.ts'
import type { ReceivedMessage } from './types.ts'

export interface Delivery {
  account: string
  raw: Uint8Array
  via: ReceivedMessage['via']
  receivedAt: number
  threadId?: string
}

export class Mailbox {
  readonly #ids: IdSource
  #messages = new Map<string, ReceivedMessage>()
  #threads = new Map<string, Set<string>>()

  constructor(ids: IdSource) {
    this.#ids = ids
  }

  /** Stores a message; a new thread takes the id of its first message, as in Gmail. */
  deliver(delivery: Delivery, summary: MessageSummary): ReceivedMessage {
    const id = this.#freshId()
    const threads = this.#threads.get(delivery.account) ?? new Set<string>()
    this.#threads.set(delivery.account, threads)
    const threadId =
      delivery.threadId !== undefined && threads.has(delivery.threadId) ? delivery.threadId : id
    threads.add(threadId)
    const { from, ...headers } = summary
    const message: ReceivedMessage = {
      id,
      threadId,
      account: delivery.account,
      raw: delivery.raw,
      receivedAt: delivery.receivedAt,
      via: delivery.via,
      from: from ?? delivery.account,
      ...headers,
      size: delivery.raw.byteLength,
    }
    this.#messages.set(id, message)
    return message
  }

  /** Newest first. */
  list(): ReceivedMessage[] {
    return [...this.#messages.values()].reverse()
  }

  get(id: string): ReceivedMessage | undefined {
    return this.#messages.get(id)
  }

  clear(): void {
    this.#messages.clear()
    this.#threads.clear()
  }

  #freshId(): string {
    let id = this.#ids.messageId()
    // A test's deterministic `random` may repeat itself: disambiguate rather than overwrite.
    for (let n = 1; this.#messages.has(id); n++)
      id = (BigInt(`0x${id}`) + BigInt(n)).toString(16).padStart(16, '0')
    return id
  }
}
