/**
 * The emulated Sent folder: the accepted messages, and which threads each
 * account has, so that a reply's `threadId` is kept only when it exists.
 *
 * It lives in memory, inside the service in sandbox mode, so it keeps only
 * the newest `limits.messages` messages and `limits.bytes` of them (the
 * newest one always): at 20 sends a second an unbounded one grew by 12 KiB
 * a message. Older messages are dropped, oldest first, with their threads
 * once none of their messages is left.
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

/** How much of the mail received the mailbox keeps. */
export interface MailboxLimits {
  messages: number
  /** Bytes of raw messages. */
  bytes: number
}

/** What sandbox mode keeps: enough to look at what was just sent, bounded under any load. */
export const DEFAULT_MAILBOX_LIMITS: MailboxLimits = { messages: 1000, bytes: 64 * 1024 * 1024 }

export class Mailbox {
  readonly #ids: IdSource
  readonly #limits: MailboxLimits
  /** Oldest first (insertion order). */
  #messages = new Map<string, ReceivedMessage>()
  /** Per account, the number of kept messages in each thread. */
  #threads = new Map<string, Map<string, number>>()
  #bytes = 0
  #dropped = 0

  constructor(ids: IdSource, limits: MailboxLimits = DEFAULT_MAILBOX_LIMITS) {
    if (!(limits.messages >= 1 && limits.bytes >= 0)) {
      throw new RangeError('The mailbox must keep at least one message and a non-negative number of bytes')
    }
    this.#ids = ids
    this.#limits = limits
  }

  /** The limits, and how many messages were dropped to keep them since the last `clear`. */
  retention(): MailboxLimits & { dropped: number } {
    return { ...this.#limits, dropped: this.#dropped }
  }

  /** Stores a message; a new thread takes the id of its first message, as in Gmail. */
  deliver(delivery: Delivery, summary: MessageSummary): ReceivedMessage {
    const id = this.#freshId()
    const threads = this.#threads.get(delivery.account) ?? new Map<string, number>()
    this.#threads.set(delivery.account, threads)
    const threadId =
      delivery.threadId !== undefined && threads.has(delivery.threadId) ? delivery.threadId : id
    threads.set(threadId, (threads.get(threadId) ?? 0) + 1)
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
    this.#bytes += message.size
    this.#trim()
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
    this.#bytes = 0
    this.#dropped = 0
  }

  /** Drops the oldest messages until the limits hold, keeping the newest whatever its size. */
  #trim(): void {
    while (
      this.#messages.size > 1 &&
      (this.#messages.size > this.#limits.messages || this.#bytes > this.#limits.bytes)
    ) {
      const oldest = this.#messages.values().next().value!
      this.#messages.delete(oldest.id)
      this.#bytes -= oldest.size
      this.#dropped += 1
      const threads = this.#threads.get(oldest.account)
      const left = (threads?.get(oldest.threadId) ?? 1) - 1
      if (left > 0) threads?.set(oldest.threadId, left)
      else threads?.delete(oldest.threadId)
      if (threads?.size === 0) this.#threads.delete(oldest.account)
    }
  }

  #freshId(): string {
    let id = this.#ids.messageId()
    // A test's deterministic `random` may repeat itself: disambiguate rather than overwrite.
    for (let n = 1; this.#messages.has(id); n++)
      id = (BigInt(`0x${id}`) + BigInt(n)).toString(16).padStart(16, '0')
    return id
  }
}
