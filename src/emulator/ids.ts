/**
 * Token and id minting. Prefixes mimic Google's shapes (`ya29.`, `1//`,
 * `4/0`) so logs and fixtures look familiar; the entropy comes from the
 * injected `random`.
 */
export interface IdSource {
  authorizationCode(): string
  accessToken(): string
  refreshToken(): string
  /** A Gmail message id: 16 lower-case hex digits. */
  messageId(): string
}

/** Default randomness: a v4 UUID from WebCrypto (122 random bits). */
export function defaultRandom(): string {
  return crypto.randomUUID()
}

export function createIdSource(random: () => string): IdSource {
  return {
    authorizationCode: () => `4/0sandbox-${random()}`,
    accessToken: () => `ya29.sandbox-${random()}`,
    refreshToken: () => `1//sandbox-${random()}`,
    messageId: () => hexId(random()),
  }
}

/** Gmail ids are 16 hex digits; derive them from any string so a test's `random` still works. */
function hexId(seed: string): string {
  const hex = seed.toLowerCase().replace(/[^0-9a-f]/g, '')
  if (hex.length >= 16) return hex.slice(0, 16)
  let hash = 0xcbf29ce484222325n
  for (const char of seed) {
    hash ^= BigInt(char.codePointAt(0) ?? 0)
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return hash.toString(16).padStart(16, '0')
}
