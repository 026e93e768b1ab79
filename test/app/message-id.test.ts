import { describe, expect, it } from 'vitest'
import { createMessageIds } from '../../src/app/message-id.ts'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('createMessageIds', () => {
  it('gives UUIDv7 strings that sort in creation order within one millisecond', () => {
    const next = createMessageIds(() => 1_795_000_000_000)
    const ids = Array.from({ length: 5000 }, () => next())
    for (const id of ids) expect(id).toMatch(UUID_V7)
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('keeps its order when the clock steps back', () => {
    let now = 1_795_000_000_500
    const next = createMessageIds(() => now)
    const first = next()
    now -= 400
    const second = next()
    expect(second > first).toBe(true)
  })

  it('encodes the time in its first 48 bits', () => {
    const at = Date.UTC(2026, 10, 26, 9, 0, 0)
    const id = createMessageIds(() => at)()
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at)
  })
})
