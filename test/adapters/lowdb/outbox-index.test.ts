/** The in-memory index forgets what only day-old lookups need once it is older than a day and an hour. */
import { describe, expect, test } from 'vitest'
import { indexedMessage, OutboxIndex, RECENT_MS } from '../../../src/adapters/lowdb/outbox-index.ts'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 5, 1, 12)

function finished(id: string, at: number, key?: string) {
  return indexedMessage(
    {
      id,
      account: 'ann@example.com',
      status: 'sent',
      createdAt: at,
      updatedAt: at,
      sentAt: at,
      ...(key === undefined ? {} : { idempotencyKey: key }),
    },
    1,
    { kind: 'history', segment: '2026-06-01.jsonl', offset: 0, length: 10 },
  )
}

describe('the outbox index', () => {
  test('forgets idempotency keys and send times more than a day and an hour older than the newest', () => {
    const index = new OutboxIndex()
    index.put(finished('old', T0, 'k-old'))
    index.put(finished('day', T0 + 3 * HOUR, 'k-day'))
    index.put(finished('new', T0 + 3 * HOUR + 24 * HOUR, 'k-new'))
    // Pruning waits for an hour of slack, then catches up.
    index.put(finished('newer', T0 + 3 * HOUR + RECENT_MS, 'k-newer'))
    expect(index.idempotent('k-old', 0)).toBeUndefined()
    expect(index.idempotent('k-day', 0)).toBe('day')
    expect(index.idempotent('k-new', 0)).toBe('new')
    expect(index.sentSince('ann@example.com', 0)).toEqual([
      T0 + 3 * HOUR,
      T0 + 27 * HOUR,
      T0 + 3 * HOUR + RECENT_MS,
    ])
    // The messages themselves stay, for mail.get and mail.list, without the forgotten key.
    expect(index.get('old')).toMatchObject({ id: 'old', status: 'sent', createdAt: T0 })
    expect(index.get('old')?.idempotencyKey).toBeUndefined()
    expect(index.get('day')?.idempotencyKey).toBe('k-day')
    expect(index.page(undefined, 10, undefined).items.map((message) => message.id)).toEqual([
      'newer',
      'new',
      'day',
      'old',
    ])
  })

  test('forgets them when built from what is on disk, in any order', () => {
    const index = OutboxIndex.build([
      finished('new', T0 + 30 * HOUR, 'k-new'),
      finished('old', T0, 'k-old'),
      finished('mid', T0 + 10 * HOUR, 'k-mid'),
    ])
    expect(index.idempotent('k-old', 0)).toBeUndefined()
    expect(index.idempotent('k-mid', 0)).toBe('mid')
    expect(index.sentSince('ann@example.com', 0)).toEqual([T0 + 10 * HOUR, T0 + 30 * HOUR])
    expect(index.size).toBe(3)
  })

  test('gives back what it was given', () => {
    const index = new OutboxIndex()
    const message = finished('a', T0, 'k')
    index.put(message)
    expect(index.get('a')).toEqual(message)
    expect(index.membersOf('2026-06-01.jsonl')).toEqual(new Set(['a']))
    index.delete('a')
    expect(index.get('a')).toBeUndefined()
    expect(index.idempotent('k', 0)).toBeUndefined()
    expect(index.membersOf('2026-06-01.jsonl')).toEqual(new Set())
  })
})
