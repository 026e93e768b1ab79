/**
 * The admin's browser session: an HMAC-signed, expiring cookie value, and
 * CSRF tokens derived from it (OWASP's "signed double-submit"/HMAC token
 * pattern). The signing key derives from the admin token, so changing the
 * token ends every session; signing out ends that session at once (it is
 * remembered as ended in `SignOuts` until it would have expired anyway: in
 * memory for one process, in the database for a fleet).
 */
import { memorySignOuts } from '../../app/memory-sign-outs.ts'
import type { SignOuts } from '../../domain/ports.ts'
import { constantTimeEqual } from './secrets.ts'

export const SESSION_COOKIE = 'admin_session'
export const SESSION_LIFETIME_MS = 12 * 3_600_000

const encoder = new TextEncoder()

async function hmacHex(key: CryptoKey, message: string): Promise<string> {
  const signature = await crypto.subtle.sign('HMAC', key, encoder.encode(message))
  return Array.from(new Uint8Array(signature), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

export interface AdminSessions {
  issue(now: number): Promise<string>
  /** Whether a cookie value is a live session: well signed, not expired, not signed out. */
  verify(value: string | undefined, now: number): Promise<boolean>
  /** Ends a session before its expiry (sign-out). */
  revoke(value: string, now: number): Promise<void>
  /** The CSRF token of a session (same for the session's life). */
  csrfToken(session: string): Promise<string>
  verifyCsrf(session: string | undefined, token: string | undefined): Promise<boolean>
}

/** `v1.<expires ms>.<nonce>.<hmac>` → the expiry, or undefined when the shape is wrong. */
function expiryOf(value: string): number | undefined {
  const parts = value.split('.')
  if (parts.length !== 4 || parts[0] !== 'v1' || !/^\d{1,16}$/.test(parts[1] ?? '')) return undefined
  return Number(parts[1])
}

/** `signOuts` defaults to this process's memory (one replica, lowdb mode). */
export async function createAdminSessions(
  adminToken: string,
  options: { signOuts?: SignOuts } = {},
): Promise<AdminSessions> {
  const ended = options.signOuts ?? memorySignOuts()
  const material = await crypto.subtle.digest('SHA-256', encoder.encode(`admin-session:${adminToken}`))
  const key = await crypto.subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  const nonce = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')
  const wellSigned = async (value: string, now: number): Promise<boolean> => {
    const expires = expiryOf(value)
    if (expires === undefined || expires < now) return false
    const body = value.slice(0, value.lastIndexOf('.'))
    return constantTimeEqual(await hmacHex(key, body), value.slice(value.lastIndexOf('.') + 1))
  }
  return {
    async issue(now) {
      const body = `v1.${now + SESSION_LIFETIME_MS}.${nonce()}`
      return `${body}.${await hmacHex(key, body)}`
    },
    async verify(value, now) {
      if (!value || value.length > 256) return false
      return (await wellSigned(value, now)) && !(await ended.has(value))
    },
    async revoke(value, now) {
      if (await wellSigned(value, now)) await ended.add(value, expiryOf(value) ?? now, now)
    },
    csrfToken: (session) => hmacHex(key, `csrf:${session}`),
    async verifyCsrf(session, token) {
      if (!session || !token) return false
      return constantTimeEqual(await hmacHex(key, `csrf:${session}`), token)
    },
  }
}
