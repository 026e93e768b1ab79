/**
 * Admin sign-outs in one process (lowdb mode, tests): signed-out sessions
 * in a map until their own expiry. Same contract as the PostgreSQL adapter
 * (test/contracts/sign-outs.contract.ts).
 */
import type { SignOuts } from '../domain/ports.ts'

export function memorySignOuts(): SignOuts {
  const ended = new Map<string, number>()
  return {
    async add(session, expiresAt, now) {
      for (const [value, expires] of ended) if (expires < now) ended.delete(value)
      ended.set(session, expiresAt)
    },
    async has(session) {
      return ended.has(session)
    },
  }
}
