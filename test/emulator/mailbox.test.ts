/** The emulated Sent folder keeps the newest messages only, so that sandbox mode's memory stays bounded. */
import { describe, expect, test } from 'vitest'
import { createIdSource } from '../../src/emulator/ids.ts'
import { DEFAULT_MAILBOX_LIMITS, Mailbox, type MailboxLimits } from '../../src/emulator/mailbox.ts'
import { summarizeMessage } from '../../src/emulator/mime-summary.ts'

function mailbox(limits?: MailboxLimits): Mailbox {
  let next = 0
  return new Mailbox(
    createIdSource(() => (next++).toString(16).padStart(16, '0')),
    limits,
  )
}

function deliver(box: Mailbox, subject: string, options: { threadId?: string; bodyBytes?: number } = {}) {
  const raw = new TextEncoder().encode(
    `To: ann@example.com\r\nSubject: ${subject}\r\n\r\n${'x'.repeat(options.bodyBytes ?? 10)}`,
  )
  return box.deliver(
    {
      account: 'me@example.com',
      raw,
      via: 'json',
      receivedAt: 0,
      ...(options.threadId === undefined ? {} : { threadId: options.threadId }),
    },
    summarizeMessage(raw),
  )
}

describe('the sandbox mailbox', () => {
  test('keeps the newest messages up to its count, dropping the oldest', () => {
    const box = mailbox({ messages: 3, bytes: 1_000_000 })
    const first = deliver(box, 'one')
    for (const subject of ['two', 'three', 'four', 'five']) deliver(box, subject)
    expect(box.list().map((message) => message.subject)).toEqual(['five', 'four', 'three'])
    expect(box.get(first.id)).toBeUndefined()
    expect(box.retention()).toEqual({ messages: 3, bytes: 1_000_000, dropped: 2 })
  })

  test('keeps at most its bytes, but always the newest message', () => {
    const box = mailbox({ messages: 100, bytes: 200 })
    for (const subject of ['a', 'b', 'c']) deliver(box, subject, { bodyBytes: 60 })
    expect(box.list().map((message) => message.subject)).toEqual(['c', 'b'])
    deliver(box, 'huge', { bodyBytes: 5_000 })
    expect(box.list().map((message) => message.subject)).toEqual(['huge'])
  })

  test('a thread lasts while one of its messages is kept', () => {
    const box = mailbox({ messages: 2, bytes: 1_000_000 })
    const first = deliver(box, 'first')
    const reply = deliver(box, 'reply', { threadId: first.threadId })
    expect(reply.threadId).toBe(first.threadId)
    deliver(box, 'other')
    // `first` is gone, `reply` keeps the thread.
    expect(deliver(box, 'again', { threadId: first.threadId }).threadId).toBe(first.threadId)
    deliver(box, 'more')
    deliver(box, 'more still')
    // Now none of the thread is kept: a reply to it starts a new one, as for an unknown thread.
    const late = deliver(box, 'late', { threadId: first.threadId })
    expect(late.threadId).toBe(late.id)
  })

  test('is bounded by default, and emptying it resets what was dropped', () => {
    const box = mailbox()
    for (let index = 0; index < DEFAULT_MAILBOX_LIMITS.messages + 5; index++) deliver(box, `m${index}`)
    expect(box.list()).toHaveLength(DEFAULT_MAILBOX_LIMITS.messages)
    expect(box.list()[0]?.subject).toBe(`m${DEFAULT_MAILBOX_LIMITS.messages + 4}`)
    expect(box.retention().dropped).toBe(5)
    box.clear()
    expect(box.list()).toEqual([])
    expect(box.retention().dropped).toBe(0)
  })
})
