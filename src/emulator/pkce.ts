/**
 * PKCE verification (RFC 7636 §4.6), S256 only: Google's service clients must
 * not use `plain`.
 */
import { encodeBase64Url } from '../domain/mime/base64.ts'

/** RFC 7636 §4.1: 43 to 128 unreserved characters; the same grammar holds for the S256 challenge. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/

export function isWellFormedPkceValue(value: string): boolean {
  return PKCE_VALUE.test(value)
}

/** Whether `BASE64URL(SHA256(ASCII(verifier)))` equals the challenge. */
export async function verifierMatchesChallenge(verifier: string, challenge: string): Promise<boolean> {
  if (!isWellFormedPkceValue(verifier)) return false
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return encodeBase64Url(new Uint8Array(digest)) === challenge
}
