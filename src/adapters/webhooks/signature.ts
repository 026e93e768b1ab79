/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/, spec
 * "Signature scheme"): a secret is `whsec_` + base64 of random bytes; a
 * signature is `v1,` + base64 of HMAC-SHA256 over `<id>.<timestamp>.<body>`
 * keyed with the secret's decoded bytes. `node:crypto` runs on Node and Deno.
 */
import { createHmac, randomBytes } from 'node:crypto'

const PREFIX = 'whsec_'
/** 32 bytes: the spec asks for between 24 and 64. */
const SECRET_BYTES = 32

/** A fresh signing secret, `whsec_<base64 of 32 random bytes>`. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(SECRET_BYTES).toString('base64')
}

/** The key bytes of a `whsec_…` secret; throws on one that is not base64 of at least 24 bytes. */
export function webhookSecretKey(secret: string): Buffer {
  const text = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('Could not read the webhook secret: not base64')
  const key = Buffer.from(text, 'base64')
  if (key.length < 24) throw new Error('Could not read the webhook secret: shorter than 24 bytes')
  return key
}

/** The `webhook-signature` header of one attempt: `v1,<base64>`. */
export function signWebhook(request: {
  secret: string
  id: string
  timestamp: number
  body: string
}): string {
  const mac = createHmac('sha256', webhookSecretKey(request.secret))
    .update(`${request.id}.${request.timestamp}.${request.body}`)
    .digest('base64')
  return `v1,${mac}`
}
