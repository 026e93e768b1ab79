/**
 * Base64url (RFC 4648 §5) without Buffer, so that Deno and browsers run it.
 * Decoding is strict: Gmail refuses the standard alphabet (`+`, `/`).
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const VALUES = new Int16Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i

/** Decodes base64url (padding optional); `undefined` when any character is outside the alphabet. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--
  if (text.length - end > 2 || end % 4 === 1) return undefined
  const out = new Uint8Array(Math.floor((end * 3) / 4))
  const whole = end - (end % 4)
  let written = 0
  // Four characters make three bytes; any invalid one turns the OR of the values negative.
  for (let i = 0; i < whole; i += 4) {
    const a = sextet(text, i)
    const b = sextet(text, i + 1)
    const c = sextet(text, i + 2)
    const d = sextet(text, i + 3)
    if ((a | b | c | d) < 0) return undefined
    const group = (a << 18) | (b << 12) | (c << 6) | d
    out[written++] = group >> 16
    out[written++] = (group >> 8) & 0xff
    out[written++] = group & 0xff
  }
  const rest = end - whole
  if (rest > 0) {
    const a = sextet(text, whole)
    const b = sextet(text, whole + 1)
    const c = rest === 3 ? sextet(text, whole + 2) : 0
    if ((a | b | c) < 0) return undefined
    const group = (a << 18) | (b << 12) | (c << 6)
    out[written++] = group >> 16
    if (rest === 3) out[written++] = (group >> 8) & 0xff
  }
  return out
}

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index)
  return code < 128 ? VALUES[code]! : -1
}

/** Encodes bytes as base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    const length = Math.min(3, bytes.length - i)
    text += ALPHABET[(chunk >> 18) & 63]! + ALPHABET[(chunk >> 12) & 63]!
    if (length > 1) text += ALPHABET[(chunk >> 6) & 63]!
    if (length > 2) text += ALPHABET[chunk & 63]!
  }
  return text
}
