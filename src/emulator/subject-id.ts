/**
 * Google's `sub`: a stable numeric account id, 21 digits. Derived from the
 * email (FNV-1a, 64 bits) so that it survives restarts without storage.
 */
export function subjectIdFor(email: string): string {
  let hash = 0xcbf29ce484222325n
  for (const byte of new TextEncoder().encode(email.toLowerCase())) {
    hash ^= BigInt(byte)
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return '1' + hash.toString().padStart(20, '0')
}
