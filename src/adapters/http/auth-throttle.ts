/**
 * The brute-force guard at the HTTP edge: before a presented secret (API
 * key, admin bearer, sign-in token) is hashed, the client's address is
 * looked up in the failure counts; a refused secret is counted and logged
 * with the address (never the secret), at most once a minute per address.
 */
import type { Context } from 'hono'
import type { AuthFailureGuard } from '../../app/auth-failures.ts'
import type { Logger } from '../../app/logger.ts'
import type { ClientAddress } from './client-address.ts'

export interface ThrottleDeps {
  authFailures: AuthFailureGuard
  clientAddress: ClientAddress
  logger: Logger
}

export interface Attempt {
  address: string
  /** 0: the secret may be checked; else the ms the address must wait. */
  waitMs: number
}

export function attemptOf(deps: ThrottleDeps, c: Context): Attempt {
  const address = deps.clientAddress(c)
  return { address, waitMs: deps.authFailures.waitMs(address) }
}

/** Counts a refused secret of `address` and logs it (rate-limited per address). */
export function refused(deps: ThrottleDeps, address: string, message: string): void {
  const { log, suppressed } = deps.authFailures.failed(address)
  if (!log) return
  deps.logger.warn(message, suppressed > 0 ? { client: address, suppressed } : { client: address })
}

/** Whole seconds for Retry-After, at least one. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000))
}

/** The sentence of a throttled address. */
export function throttledMessage(waitMs: number): string {
  return `Too many failed authentications from this address; retry in ${retryAfterSeconds(waitMs)} s`
}
