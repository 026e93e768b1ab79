/**
 * The admin's browser session: an HMAC-signed, expiring cookie value, and
 * CSRF tokens derived from it. The signing key derives from the admin token,
 * so changing the token ends every session.
 */
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
  /** Whether a cookie value is a live session. */
  verify(value: string | undefined, now: number): Promise<boolean>
  /** The CSRF token of a session (same for the session's life). */
  csrfToken(session: string): Promise<string>
  verifyCsrf(session: string | undefined, token: string | undefined): Promise<boolean>
}

export async function createAdminSessions(adminToken: string): Promise<AdminSessions> {
  const material = await crypto.subtle.digest('SHA-256', encoder.encode(`admin-session:${adminToken}`))
  const key = await crypto.subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  const nonce = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')
  return {
    async issue(now) {
      const body = `v1.${now + SESSION_LIFETIME_MS}.${nonce()}`
      return `${body}.${await hmacHex(key, body)}`
    },
    async verify(value, now) {
      if (!value) return false
      const parts = value.split('.')
      if (parts.length !== 4 || parts[0] !== 'v1') return false
      const expires = Number(parts[1])
      if (!Number.isFinite(expires) || expires < now) return false
      const body = parts.slice(0, 3).join('.')
      return constantTimeEqual(await hmacHex(key, body), parts[3] ?? '')
    },
    csrfToken: (session) => hmacHex(key, `csrf:${session}`),
    async verifyCsrf(session, token) {
      if (!session || !token) return false
      return constantTimeEqual(await hmacHex(key, `csrf:${session}`), token)
    },
  }
}
