/**
 * What every SignOuts store promises: run on the in-memory store and on
 * PostgreSQL (sign-outs.test.ts). Times are passed in, so the same
 * assertions hold for both.
 */
import { beforeEach, expect, it } from 'vitest'
import type { SignOuts } from '../../src/domain/ports.ts'

const T0 = Date.UTC(2026, 10, 26, 9, 0, 0)
const HOUR = 3_600_000

/** A fresh, empty store for each test. */
export type MakeSignOuts = () => Promise<SignOuts>

const newSession = () => `v1.${T0 + HOUR}.${crypto.randomUUID()}.signature`

export function signOutsContract(make: MakeSignOuts): void {
  let signOuts: SignOuts
  beforeEach(async () => {
    signOuts = await make()
  })

  it('refuses a signed-out session and no other', async () => {
    const ended = newSession()
    const other = newSession()
    await signOuts.add(ended, T0 + HOUR, T0)
    expect(await signOuts.has(ended)).toBe(true)
    expect(await signOuts.has(other)).toBe(false)
  })

  it('takes a second sign-out of the same session in its stride', async () => {
    const ended = newSession()
    await signOuts.add(ended, T0 + HOUR, T0)
    await signOuts.add(ended, T0 + HOUR, T0 + 1_000)
    expect(await signOuts.has(ended)).toBe(true)
  })

  it('forgets sign-outs whose session has expired when another is added', async () => {
    const expired = newSession()
    const alive = newSession()
    const boundary = newSession()
    await signOuts.add(expired, T0 + 10_000, T0)
    await signOuts.add(alive, T0 + HOUR, T0)
    await signOuts.add(boundary, T0 + 20_000, T0)
    await signOuts.add(newSession(), T0 + HOUR, T0 + 20_000)
    expect(await signOuts.has(expired)).toBe(false)
    expect(await signOuts.has(alive)).toBe(true)
    // Expiring at that very ms: not expired yet.
    expect(await signOuts.has(boundary)).toBe(true)
  })
}
