/**
 * A `multipart/related` body (RFC 2387, syntax of RFC 2046 §5.1.1) as
 * googleapis-common builds it for uploads: JSON metadata, then the media.
 */
import { ascii, indexOfBytes } from '../domain/bytes.ts'

export interface BodyPart {
  /** Header names lower-cased. */
  headers: Map<string, string>
  body: Uint8Array
}

/** The boundary parameter of a multipart Content-Type, unquoted. */
export function multipartBoundary(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType)
  return match?.[1] ?? match?.[2]
}

/** The parts between the delimiters; `undefined` when the body is not well formed. */
export function parseMultipart(body: Uint8Array, boundary: string): BodyPart[] | undefined {
  const delimiter = ascii(`\r\n--${boundary}`)
  // The first delimiter may open the body without the CRLF that belongs to the others.
  let cursor = startsWith(body, delimiter.subarray(2), 0) ? delimiter.length - 2 : -1
  if (cursor < 0) {
    const first = indexOfBytes(body, delimiter)
    if (first < 0) return undefined
    cursor = first + delimiter.length
  }
  const parts: BodyPart[] = []
  for (;;) {
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return parts // close-delimiter "--"
    const lineEnd = body.indexOf(0x0a, cursor) // transport padding, then CRLF
    if (lineEnd < 0) return undefined
    const next = indexOfBytes(body, delimiter, lineEnd + 1)
    if (next < 0) return undefined
    const part = parsePart(body.subarray(lineEnd + 1, next))
    if (part === undefined) return undefined
    parts.push(part)
    cursor = next + delimiter.length
  }
}

function parsePart(bytes: Uint8Array): BodyPart | undefined {
  const blank = startsWith(bytes, ascii('\r\n'), 0) ? 0 : indexOfBytes(bytes, ascii('\r\n\r\n'))
  if (blank < 0) return undefined
  const headerEnd = blank === 0 ? 0 : blank + 2
  const headers = new Map<string, string>()
  const text = new TextDecoder().decode(bytes.subarray(0, headerEnd)).replace(/\r\n(?=[ \t])/g, '')
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { headers, body: bytes.subarray(headerEnd + 2) }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (bytes.length - at < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false
  return true
}
