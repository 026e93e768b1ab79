/**
 * What every AuthorizationStates store promises, whatever keeps the
 * logins: run on the in-memory store and on PostgreSQL
 * (authorization-states.test.ts). Every time is passed in (`createdAt`,
 * `expiresAt`, the `now` of a take), so the same assertions hold for both.
 */
import { beforeEach, expect, it } from 'vitest'
import type { AuthorizationStates, PendingAuthorization } from '../../src/domain/ports.ts'

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0)
const TEN_MINUTES = 600_000

/** A fresh, empty store for each test; `max` bounds the logins kept. */
export type MakeStates = (options: { max?: number }) => Promise<AuthorizationStates>

let counter = 0
const newState = () => `state-${++counter}-${crypto.randomUUID()}`
const login = (createdAt: number, loginHint?: string): PendingAuthorization => ({
  codeVerifier: `verifier-${crypto.randomUUID()}`,
  createdAt,
  ...(loginHint === undefined ? {} : { loginHint }),
})

export function authorizationStatesContract(make: MakeStates): void {
  let states: AuthorizationStates
  beforeEach(async () => {
    states = await make({})
  })

  it('gives back the login a state was put with: verifier, start time and hint', async () => {
    const state = newState()
    const pending = login(T0, 'ann@example.com')
    await states.put(state, pending, T0 + TEN_MINUTES)
    expect(await states.take(state, T0 + 1_000)).toStrictEqual(pending)
  })

  it('gives back a login without a hint without one', async () => {
    const state = newState()
    const pending = login(T0)
    await states.put(state, pending, T0 + TEN_MINUTES)
    expect(await states.take(state, T0 + 1_000)).toStrictEqual(pending)
  })

  it('spends a state on its first take: the second gets nothing', async () => {
    const state = newState()
    await states.put(state, login(T0), T0 + TEN_MINUTES)
    expect(await states.take(state, T0 + 1_000)).toBeDefined()
    expect(await states.take(state, T0 + 2_000)).toBeUndefined()
  })

  it('knows no state that was never put, nor one that differs by a character', async () => {
    const state = newState()
    await states.put(state, login(T0), T0 + TEN_MINUTES)
    expect(await states.take(newState(), T0 + 1_000)).toBeUndefined()
    expect(await states.take(`${state}x`, T0 + 1_000)).toBeUndefined()
    expect(await states.take(state, T0 + 1_000)).toBeDefined()
  })

  it('refuses a login taken after its expiry, and spends it all the same', async () => {
    const state = newState()
    await states.put(state, login(T0), T0 + TEN_MINUTES)
    expect(await states.take(state, T0 + TEN_MINUTES + 1)).toBeUndefined()
    expect(await states.take(state, T0 + 1_000)).toBeUndefined()
  })

  it('still gives a login taken at the very ms of its expiry', async () => {
    const state = newState()
    await states.put(state, login(T0), T0 + TEN_MINUTES)
    expect(await states.take(state, T0 + TEN_MINUTES)).toBeDefined()
  })

  it('gives one login to exactly one of ten concurrent takes', async () => {
    const state = newState()
    const pending = login(T0)
    await states.put(state, pending, T0 + TEN_MINUTES)
    const taken = await Promise.all(Array.from({ length: 10 }, () => states.take(state, T0 + 1_000)))
    expect(taken.filter((item) => item !== undefined)).toStrictEqual([pending])
  })

  it('drops logins already expired when a later one starts', async () => {
    const expired = newState()
    const alive = newState()
    await states.put(expired, login(T0), T0 + 10_000)
    await states.put(alive, login(T0), T0 + TEN_MINUTES)
    await states.put(newState(), login(T0 + 20_000), T0 + 20_000 + TEN_MINUTES)
    // Asked with a `now` before its expiry, the dropped login is gone all the same.
    expect(await states.take(expired, T0 + 5_000)).toBeUndefined()
    expect(await states.take(alive, T0 + 5_000)).toBeDefined()
  })

  it('keeps at most `max` logins, forgetting the oldest first', async () => {
    const bounded = await make({ max: 3 })
    const started = [newState(), newState(), newState(), newState(), newState()]
    for (const [index, state] of started.entries()) {
      await bounded.put(state, login(T0 + index * 1_000), T0 + TEN_MINUTES)
    }
    const now = T0 + 10_000
    const found = []
    for (const state of started) found.push((await bounded.take(state, now)) !== undefined)
    expect(found).toEqual([false, false, true, true, true])
  })
}
