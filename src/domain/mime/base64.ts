/**
 * Base64 (RFC 4648 §4) and base64url (§5), runtime-neutral: the fastest
 * primitive the runtime has (`Uint8Array.prototype.toBase64`, else Node's or
 * Deno's global `Buffer`), else a table-driven encoder in plain JavaScript.
 */

interface NativeUint8Array {
  toBase64?: (options?: { alphabet?: 'base64' | 'base64url'; omitPadding?: boolean }) => string
}
interface NativeUint8ArrayConstructor {
  fromBase64?: (text: string) => Uint8Array
}
interface NativeUint8ArrayTarget {
  setFromBase64?: (text: string) => { read: number; written: number }
}
interface BufferView {
  toString(encoding: 'base64' | 'base64url', start?: number, end?: number): string
  byteOffset: number
  byteLength: number
  buffer: ArrayBufferLike
}
interface BufferConstructor {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): BufferView
  from(text: string, encoding: 'base64'): BufferView
}

const hasToBase64 = typeof (Uint8Array.prototype as NativeUint8Array).toBase64 === 'function'
const hasFromBase64 = typeof (Uint8Array as NativeUint8ArrayConstructor).fromBase64 === 'function'
const hasSetFromBase64 = typeof (Uint8Array.prototype as NativeUint8ArrayTarget).setFromBase64 === 'function'
const NodeBuffer = (globalThis as unknown as { Buffer?: BufferConstructor }).Buffer

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
export const STANDARD_CODES = Uint8Array.from(ALPHABET, (char) => char.charCodeAt(0))
const URL_CODES = Uint8Array.from(URL_ALPHABET, (char) => char.charCodeAt(0))
/** Character code to 6-bit value; 64 for whitespace, 255 for anything else. */
const DECODE = new Uint8Array(128).fill(255)
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i
for (const whitespace of [9, 10, 13, 32]) DECODE[whitespace] = 64

const latin1 = new TextDecoder('latin1')

/** The runtime's own standard base64 encoder, if it has one. */
const nativeBase64: ((bytes: Uint8Array) => string) | undefined = hasToBase64
  ? (bytes) => (bytes as NativeUint8Array).toBase64!()
  : NodeBuffer === undefined
    ? undefined
    : (bytes) => bufferView(bytes).toString('base64')

/** Standard base64 with padding, on one line. */
export function encodeBase64(bytes: Uint8Array): string {
  return nativeBase64 === undefined ? encodePure(bytes, STANDARD_CODES, true) : nativeBase64(bytes)
}

/** RFC 4648 §5 base64url without padding, as Gmail's `raw` field wants it. */
export function encodeBase64Url(bytes: Uint8Array): string {
  if (hasToBase64) return (bytes as NativeUint8Array).toBase64!({ alphabet: 'base64url', omitPadding: true })
  if (NodeBuffer !== undefined) return bufferView(bytes).toString('base64url')
  return encodePure(bytes, URL_CODES, false)
}

function bufferView(bytes: Uint8Array): BufferView {
  return NodeBuffer!.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function encodePure(bytes: Uint8Array, codes: Uint8Array, pad: boolean): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4)
  const end = encodeGroups(bytes, 0, bytes.length, codes, out, 0)
  return latin1.decode(pad ? out : out.subarray(0, end - paddingOf(bytes.length)))
}

function paddingOf(byteLength: number): number {
  return (3 - (byteLength % 3)) % 3
}

/** Encodes `bytes[from, to)` into `out` at `at`, padding a final partial group; returns the end offset. */
export function encodeGroups(
  bytes: Uint8Array,
  from: number,
  to: number,
  codes: Uint8Array,
  out: Uint8Array,
  at: number,
): number {
  let i = from
  let o = at
  const whole = to - ((to - from) % 3)
  for (; i < whole; i += 3) {
    const group = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out[o] = codes[group >>> 18]!
    out[o + 1] = codes[(group >>> 12) & 63]!
    out[o + 2] = codes[(group >>> 6) & 63]!
    out[o + 3] = codes[group & 63]!
    o += 4
  }
  if (i < to) {
    const second = i + 1 < to ? bytes[i + 1]! : 0
    const group = (bytes[i]! << 16) | (second << 8)
    out[o] = codes[group >>> 18]!
    out[o + 1] = codes[(group >>> 12) & 63]!
    out[o + 2] = i + 1 < to ? codes[(group >>> 6) & 63]! : 61
    out[o + 3] = 61
    o += 4
  }
  return o
}

/**
 * Whether `text` is standard base64 (RFC 4648 §4): the 64-character
 * alphabet, whitespace anywhere, at most two `=` at the end, and a length
 * that padding or its absence makes whole.
 */
export function checkBase64(text: string): 'valid' | 'base64url' | 'invalid' {
  let data = 0
  let padding = 0
  let urlSafe = false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? DECODE[code]! : 255
    if (value === 64) continue
    if (code === 61) {
      padding++
      continue
    }
    if (value === 255) {
      if (code === 45 || code === 95) urlSafe = true
      else return 'invalid'
    }
    if (padding > 0) return 'invalid'
    data++
  }
  if (urlSafe) return 'base64url'
  if (padding > 2) return 'invalid'
  if (padding > 0) return (data + padding) % 4 === 0 ? 'valid' : 'invalid'
  return data % 4 === 1 ? 'invalid' : 'valid'
}

/** Decodes base64 already accepted by `checkBase64`. */
export function decodeBase64(text: string): Uint8Array {
  if (hasSetFromBase64) {
    // Into an array of the length the text allows (exact without whitespace): `fromBase64`
    // (V8 13) fills a scratch array first, twice the memory and twice the time for 25 MB.
    const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
    const out = new Uint8Array(Math.floor(((text.length - padding) * 3) / 4))
    const { written } = (out as NativeUint8ArrayTarget).setFromBase64!(text)
    return written === out.length ? out : out.subarray(0, written)
  }
  if (hasFromBase64) return (Uint8Array as NativeUint8ArrayConstructor).fromBase64!(text)
  if (NodeBuffer !== undefined) {
    const decoded = NodeBuffer.from(text, 'base64')
    return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength)
  }
  return decodePure(text)
}

const STRICT = {
  base64: /^[A-Za-z0-9+/]*={0,2}$/,
  base64url: /^[A-Za-z0-9_-]*={0,2}$/,
  either: /^[A-Za-z0-9+/_-]*={0,2}$/,
} as const

/**
 * Decodes base64 in one alphabet (`either` takes both) without whitespace:
 * padding optional, at most two `=` at the end; `undefined` for anything
 * else (a store's cursor or key, Gmail's `raw` field).
 */
export function decodeBase64Strict(text: string, alphabet: keyof typeof STRICT): Uint8Array | undefined {
  if (!STRICT[alphabet].test(text)) return undefined
  let data = text.replace(/=+$/, '')
  if (data.length % 4 === 1) return undefined
  if (alphabet !== 'base64') data = data.replaceAll('-', '+').replaceAll('_', '/')
  return decodeBase64(data)
}

/**
 * RFC 2045 §6.8 for display: characters outside the alphabet are ignored,
 * a dangling last character dropped. Never fails.
 */
export function decodeBase64Lenient(text: string): Uint8Array {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, '')
  return decodeBase64(clean.length % 4 === 1 ? clean.slice(0, -1) : clean)
}

function decodePure(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4))
  let bits = 0
  let collected = 0
  let o = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? DECODE[code]! : 255
    if (value >= 64) continue
    bits = (bits << 6) | value
    collected += 6
    if (collected >= 8) {
      collected -= 8
      out[o++] = (bits >>> collected) & 255
    }
  }
  return out.subarray(0, o)
}
