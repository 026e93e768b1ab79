/**
 * Encryption at rest of OAuth tokens: AES-256-GCM through WebCrypto
 * (NIST SP 800-38D), a random 96-bit IV per value, and additional
 * authenticated data that binds a sealed value to its key id and purpose,
 * so that a token copied into another field or account fails to open.
 *
 * Sealed format: `v1.<keyId>.<iv base64url>.<ciphertext+tag base64url>`, where
 * keyId is the first 8 hex digits of SHA-256 of the key: it picks the key
 * among current and old ones, which makes key rotation possible.
 */
import { createHash } from 'node:crypto'
import { ServiceError } from '../../domain/errors.ts'
import { decodeBase64Strict, encodeBase64Url } from '../../domain/mime/base64.ts'

const FORMAT_VERSION = 'v1'
const KEY_BYTES = 32
const IV_BYTES = 12
const KEY_SHAPE = 'TOKEN_ENCRYPTION_KEY must be one or more comma-separated base64 keys of 32 bytes each'

export interface TokenCipher {
  /** Seals a token under the current key. `purpose` (e.g. `refresh:ann@example.com`) must match on decrypt. */
  encrypt(plaintext: string, purpose?: string): Promise<string>
  /** Opens a sealed token with whichever known key sealed it. */
  decrypt(sealed: string, purpose?: string): Promise<string>
  /** Whether `sealed` was made with the current key (else it should be re-encrypted). */
  isCurrent(sealed: string): boolean
}

/**
 * The purpose (additional authenticated data) an account's token is sealed
 * under, the same in every store: a sealed refresh token opens only as the
 * refresh token of that account, and a sealed value moves between stores
 * (lowdb to PostgreSQL) as it is.
 */
export function tokenPurpose(kind: 'refresh' | 'access', email: string): string {
  return `${kind}-token:${email}`
}

/** The purpose a webhook endpoint's secret is sealed under, the same in every store: it opens only as that endpoint's. */
export function webhookSecretPurpose(endpointId: string): string {
  return `webhook-secret:${endpointId}`
}

interface CipherKey {
  id: string
  key: Promise<CryptoKey>
}

/**
 * A cipher over `keys`: the first is current (used to encrypt), the others
 * are old keys still accepted for decryption during a rotation.
 */
export function createTokenCipher(keys: Uint8Array[]): TokenCipher {
  if (keys.length === 0 || keys.some((key) => key.length !== KEY_BYTES)) {
    throw new ServiceError('CONFIG', KEY_SHAPE)
  }
  const known: CipherKey[] = keys.map((raw) => ({
    id: keyIdOf(raw),
    key: crypto.subtle.importKey('raw', new Uint8Array(raw), 'AES-GCM', false, ['encrypt', 'decrypt']),
  }))
  const current = known[0]!
  const encoder = new TextEncoder()
  const additionalData = (keyId: string, purpose: string | undefined): Uint8Array<ArrayBuffer> =>
    encoder.encode(`${FORMAT_VERSION}.${keyId}|${purpose ?? ''}`)

  return {
    async encrypt(plaintext, purpose) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
      const sealed = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: additionalData(current.id, purpose) },
        await current.key,
        encoder.encode(plaintext),
      )
      return [FORMAT_VERSION, current.id, encodeBase64Url(iv), encodeBase64Url(new Uint8Array(sealed))].join(
        '.',
      )
    },

    async decrypt(sealed, purpose) {
      const parts = parseSealed(sealed)
      const match = known.find((candidate) => candidate.id === parts.keyId)
      if (match === undefined) {
        throw new ServiceError(
          'CONFIG',
          'A stored token was encrypted with a key that TOKEN_ENCRYPTION_KEY no longer holds',
        )
      }
      try {
        const plaintext = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: parts.iv, additionalData: additionalData(parts.keyId, purpose) },
          await match.key,
          parts.ciphertext,
        )
        return new TextDecoder().decode(plaintext)
      } catch (cause) {
        throw new ServiceError('STORAGE', 'A stored token failed its integrity check', { cause })
      }
    },

    isCurrent(sealed) {
      return sealed.split('.')[1] === current.id
    },
  }
}

/**
 * Parses TOKEN_ENCRYPTION_KEY: comma-separated base64 keys of 32 bytes, the
 * first current. The error names the faulty position, never the value.
 */
export function parseEncryptionKeys(value: string): Uint8Array[] {
  const items = value.split(',').map((item) => item.trim())
  return items.map((item, index) => {
    const key = item === '' ? undefined : decodeBase64Strict(item, 'either')
    if (key === undefined) throw new ServiceError('CONFIG', `${KEY_SHAPE} (key ${index + 1} is not base64)`)
    if (key.length !== KEY_BYTES) {
      throw new ServiceError('CONFIG', `${KEY_SHAPE} (key ${index + 1} decodes to ${key.length} bytes)`)
    }
    return key
  })
}

/**
 * The key's fingerprint. `isCurrent` is synchronous and WebCrypto's digest is
 * not, hence `node:crypto` here (Node and Deno both provide it).
 */
function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8)
}

function parseSealed(sealed: string): {
  keyId: string
  iv: Uint8Array<ArrayBuffer>
  ciphertext: Uint8Array<ArrayBuffer>
} {
  const [version, keyId, ivText, ciphertextText, extra] = sealed.split('.')
  const iv = ivText === undefined ? undefined : decodeBase64Strict(ivText, 'either')
  const ciphertext = ciphertextText === undefined ? undefined : decodeBase64Strict(ciphertextText, 'either')
  if (
    version !== FORMAT_VERSION ||
    keyId === undefined ||
    !/^[0-9a-f]{8}$/.test(keyId) ||
    iv?.length !== IV_BYTES ||
    ciphertext === undefined ||
    extra !== undefined
  ) {
    throw new ServiceError('STORAGE', 'A stored token is not in the sealed format')
  }
  return { keyId, iv: new Uint8Array(iv), ciphertext: new Uint8Array(ciphertext) }
}
