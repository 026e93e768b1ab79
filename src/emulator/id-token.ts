/**
 * An OpenID Connect ID token (OIDC Core §2) for the code exchange. It is an
 * unsecured JWT (RFC 7519 §6, `alg: none`): the emulator holds no signing
 * keys, and a client must learn the account from userinfo or decode, never
 * trust, this token in sandbox mode.
 */
import { encodeBase64Url } from '../domain/mime/base64.ts'
import { subjectIdFor } from './subject-id.ts'

export const GOOGLE_ISSUER = 'https://accounts.google.com'

export function unsignedIdToken(claims: {
  clientId: string
  email: string
  scopes: string[]
  issuedAt: number
}) {
  const iat = Math.floor(claims.issuedAt / 1000)
  const payload: Record<string, unknown> = {
    iss: GOOGLE_ISSUER,
    azp: claims.clientId,
    aud: claims.clientId,
    sub: subjectIdFor(claims.email),
    iat,
    exp: iat + 3600,
  }
  if (hasEmailScope(claims.scopes)) {
    payload['email'] = claims.email
    payload['email_verified'] = true
  }
  const part = (value: unknown) => encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)))
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`
}

export function hasEmailScope(scopes: string[]): boolean {
  return scopes.includes('email') || scopes.includes('https://www.googleapis.com/auth/userinfo.email')
}
