import { describe, expect, it } from 'vitest'
import { advance } from '../../src/app/delivery/advance.ts'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import { accept } from '../../src/domain/mail/transition.ts'

const T0 = Date.UTC(2025, 0, 1)

function queued(): OutboxEntry {
  const draft = { id: 'm1', account: 'a@x.co', from: 'a@x.co', to: ['b@x.co'], cc: [], bcc: [] }
  const entry = accept(
    { ...draft, subject: 'Hi', size: 1, messageId: '<m1@x.co>' },
    { type: 'accept', at: T0, accountConnected: true },
  )
  return { ...entry, nextAttemptAt: T0 + 1_000, error: { code: 'NETWORK', message: 'Reset' } }
}

describe('advance (the engine applying a move in place)', () => {
  it('changes the shared object itself, dropping the fields the move removes', () => {
    const entry = queued()
    const log = entry.attemptLog
    const sameObject = advance(entry, { type: 'claim' })
    expect(sameObject).toBe(entry)
    expect(entry).toMatchObject({ status: 'sending', attempts: 1 })
    expect(entry).not.toHaveProperty('nextAttemptAt')
    advance(entry, { type: 'sent', at: T0 + 2, gmailMessageId: 'g', gmailThreadId: 't' })
    expect(entry).not.toHaveProperty('error')
    expect(entry.attemptLog).toEqual([{ at: T0 + 2, outcome: 'sent' }])
    expect(log).toEqual([])
  })

  it('leaves the entry as it was when the move is refused', () => {
    const entry = advance(queued(), { type: 'cancel' })
    const before = structuredClone(entry)
    expect(() => advance(entry, { type: 'cancel' })).toThrow(
      'The message is canceled; only a queued, scheduled or held message can be canceled',
    )
    expect(entry).toEqual(before)
  })
})
