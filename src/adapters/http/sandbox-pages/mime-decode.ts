/**
 * Decoders for showing a received message: transfer encodings (RFC 2045
 * §6.7 quoted-printable, §6.8 base64), charsets, RFC 2047 encoded-words in
 * headers and RFC 2231 parameter values. Lenient: a display never fails on
 * a malformed message, it shows what it can.
 */
import { decodeBase64Lenient } from '../../../domain/mime/base64.ts'

/** Bytes as a "binary string" (one char per byte), so that MIME structure can be cut with string tools. */
export function bytesToBinary(bytes: Uint8Array): string {
  let out = ''
  const chunk = 0x8000
  for (let i = 0; i < bytes.length; i += chunk) {
    out += String.fromCharCode(...bytes.subarray(i, i + chunk))
  }
  return out
}

export function binaryToBytes(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i) & 0xff
  return bytes
}

/** Text in `charset`, or UTF-8 when the charset is unknown (RFC 6532 allows UTF-8 anywhere). */
export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase()
  try {
    return new TextDecoder(label === 'us-ascii' ? 'utf-8' : label).decode(bytes)
  } catch {
    return new TextDecoder().decode(bytes)
  }
}

/** RFC 2045 §6.7; soft line breaks removed, a malformed `=` kept as is. */
export function decodeQuotedPrintable(binary: string): Uint8Array {
  const text = binary.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '')
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x3d) {
      const hex = text.slice(i + 1, i + 3)
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        out.push(Number.parseInt(hex, 16))
        i += 2
        continue
      }
    }
    out.push(code & 0xff)
  }
  return Uint8Array.from(out)
}

/** A body decoded per its Content-Transfer-Encoding (7bit, 8bit and binary are identity). */
export function decodeTransfer(binary: string, encoding: string | undefined): Uint8Array {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'base64':
      return decodeBase64Lenient(binary)
    case 'quoted-printable':
      return decodeQuotedPrintable(binary)
    default:
      return binaryToBytes(binary)
  }
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g

/**
 * RFC 2047: decodes encoded-words. White space between adjacent ones is
 * dropped (§6.2) and their bytes joined, since an encoder may split a
 * multi-byte character across two words.
 */
export function decodeEncodedWords(text: string): string {
  let out = ''
  let last = 0
  let pending: { charset: string; bytes: number[] } | undefined
  const flush = () => {
    if (pending) out += decodeCharset(Uint8Array.from(pending.bytes), pending.charset)
    pending = undefined
  }
  for (const match of text.matchAll(ENCODED_WORD)) {
    const between = text.slice(last, match.index)
    const charset = (match[1] ?? '').split('*')[0]!.toLowerCase()
    const data = match[3] ?? ''
    const bytes =
      match[2] === 'B' || match[2] === 'b'
        ? decodeBase64Lenient(data)
        : decodeQuotedPrintable(data.replace(/_/g, ' '))
    const adjacent = pending !== undefined && /^\s*$/.test(between)
    if (!(adjacent && pending?.charset === charset)) {
      flush()
      if (!adjacent) out += between
      pending = { charset, bytes: [] }
    }
    pending!.bytes.push(...bytes)
    last = match.index + match[0].length
  }
  flush()
  return out + text.slice(last)
}

/** A header value with its parameters, as in `Content-Type: text/plain; charset=utf-8`. */
export interface ParameterizedValue {
  /** Lower-cased. */
  value: string
  /** Names lower-cased; RFC 2231 continuations joined and decoded. */
  params: Record<string, string>
}

/** RFC 2045 §5.1 parameters with RFC 2231 extended values (`name*=utf-8''...`, `name*0*=...`). */
export function parseParameters(header: string): ParameterizedValue {
  const [head, ...rest] = splitOutsideQuotes(header, ';')
  const plain = new Map<string, string>()
  const extended = new Map<string, string>()
  const continued = new Map<string, Array<{ index: number; text: string; encoded: boolean }>>()
  for (const raw of rest) {
    const equals = raw.indexOf('=')
    if (equals <= 0) continue
    const key = raw.slice(0, equals).trim().toLowerCase()
    let value = raw.slice(equals + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1')
    }
    const match = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(key)
    if (!match) continue
    const name = match[1]!
    if (match[2] !== undefined) {
      const list = continued.get(name) ?? []
      list.push({ index: Number(match[2]), text: value, encoded: match[3] === '*' })
      continued.set(name, list)
    } else if (match[3] === '*') extended.set(name, value)
    else plain.set(name, value)
  }
  const params: Record<string, string> = {}
  for (const [name, value] of plain) params[name] = decodeEncodedWords(value)
  for (const [name, list] of continued) {
    list.sort((a, b) => a.index - b.index)
    params[name] = decodeExtended(list)
  }
  for (const [name, value] of extended) params[name] = decodeExtended([{ text: value, encoded: true }])
  return { value: (head ?? '').trim().toLowerCase(), params }
}

/** RFC 2231 §3-4: `charset'language'percent-encoded`, the charset on the first piece only. */
function decodeExtended(pieces: Array<{ text: string; encoded: boolean }>): string {
  let charset = 'utf-8'
  let binary = ''
  for (const [index, piece] of pieces.entries()) {
    let text = piece.text
    if (index === 0 && piece.encoded) {
      const prefix = /^([^']*)'[^']*'/.exec(text)
      if (prefix) {
        charset = prefix[1] || charset
        text = text.slice(prefix[0].length)
      }
    }
    binary += piece.encoded
      ? text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
      : bytesToBinary(new TextEncoder().encode(text))
  }
  return decodeCharset(binaryToBytes(binary), charset)
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char === '\\' && quoted) {
      current += char + (text[i + 1] ?? '')
      i++
      continue
    }
    if (char === '"') quoted = !quoted
    if (char === separator && !quoted) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  return parts
}
