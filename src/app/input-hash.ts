/**
 * A fingerprint of a mail input, to tell a repeated call (same key, same
 * input) from a conflicting one. Key order does not matter.
 */
import type { MailInput } from '../domain/mail/input.ts'

export async function hashMailInput(input: MailInput): Promise<string> {
  const { idempotencyKey: _key, ...rest } = input
  return sha256Hex(new TextEncoder().encode(canonicalJson(rest)))
}

/** SHA-256 of `bytes` as lower-case hex (WebCrypto: no `node:` import). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Composed bodies and encoded text live in plain ArrayBuffers, never shared ones.
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`
  }
  return JSON.stringify(value)
}
