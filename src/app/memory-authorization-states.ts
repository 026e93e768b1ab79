/**
 * The OAuth `state` of logins in progress in one process (lowdb mode,
 * tests): a map in insertion (start) order, swept of expired logins on
 * every start and bounded, the oldest dropped first. Same contract as the
 * PostgreSQL adapter (test/contracts/authorization-states.contract.ts).
 */
import type { AuthorizationStates, PendingAuthorization } from '../domain/ports.ts'

/** How many logins may be in progress at once before the oldest is forgotten. */
export const MAX_PENDING_AUTHORIZATIONS = 1_000

export function memoryAuthorizationStates(options: { max?: number } = {}): AuthorizationStates {
  const max = Math.max(1, options.max ?? MAX_PENDING_AUTHORIZATIONS)
  const pending = new Map<string, { login: PendingAuthorization; expiresAt: number }>()
  return {
    async put(state, login, expiresAt) {
      for (const [key, item] of pending) if (item.expiresAt < login.createdAt) pending.delete(key)
      while (pending.size >= max) pending.delete(pending.keys().next().value as string)
      pending.set(state, { login: { ...login }, expiresAt })
    },
    async take(state, now) {
      const item = pending.get(state)
      // Single use: whatever the caller does next, this state is spent.
      pending.delete(state)
      return item === undefined || now > item.expiresAt ? undefined : item.login
    },
  }
}
