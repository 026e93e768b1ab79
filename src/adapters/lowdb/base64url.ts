/**
 * Base64 helpers over `btoa`/`atob`, so that they run the same on Node, Deno
 * and browsers (RFC 4648 §4 and §5).
 */

/** Unpadded base64url (RFC 4648 §5). */
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000))
  }
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

/** Decodes base64 or base64url, padded or not; `undefined` when the text is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return undefined
  const standard = text.replace(/=+$/, '').replaceAll('-', '+').replaceAll('_', '/')
  if (standard.length % 4 === 1) return undefined
  let binary: string
  try {
    binary = atob(standard.padEnd(Math.ceil(standard.length / 4) * 4, '='))
  } catch {
    return undefined
  }
  const bytes = new Uint8Array(binary.length)
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index)
  return bytes
}
