import { describe, expect, it } from 'vitest'
import { createMessageIds, pooledRandomBytes } from '../../src/app/message-id.ts'

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

describe('pooledRandomBytes', () => {
  it('never hands out the same bytes twice, across refills of its pool', () => {
    const random = pooledRandomBytes()
    const chunks = Array.from({ length: 1000 }, () => Buffer.from(random(16)).toString('hex'))
    expect(new Set(chunks).size).toBe(chunks.length)
    for (const chunk of chunks) expect(chunk).toMatch(/^[0-9a-f]{32}$/)
  })

  it('gives each call its own copy (not a view that keeps the pool alive), and serves more than a pool at once', () => {
    const random = pooledRandomBytes()
    const first = random(16)
    const second = random(16)
    expect(first.buffer.byteLength).toBe(16)
    expect(second.buffer).not.toBe(first.buffer)
    const large = random(10_000)
    expect(large.byteLength).toBe(10_000)
    expect(new Set(large).size).toBeGreaterThan(200)
  })

  it('keeps the ids random past the time and counter bits', () => {
    const next = createMessageIds(() => 1_795_000_000_000)
    const tails = Array.from({ length: 600 }, () => next().slice(19))
    expect(new Set(tails).size).toBe(tails.length)
  })
})
