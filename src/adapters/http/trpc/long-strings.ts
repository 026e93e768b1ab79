/**
 * The long strings of a large JSON body (attachments' base64), taken out of
 * the text tRPC parses and put back into what it parsed. Decoding a body
 * whole and parsing it holds its text and a copy of each string at once (64
 * MiB for a 35 MiB message, until the garbage collector runs); taken out,
 * each long string is decoded once from the body's bytes and the text that
 * tRPC parses is small.
 *
 * A string is taken out only when it is a value inside an object or array
 * (not a key, nor the whole body), has no escape
 * and no control character (what JSON.parse would refuse is left to it);
 * its place holds a name made of a random nonce of this request, which no
 * caller can send on purpose. `putBack` replaces those names in the parsed
 * input before zod sees it.
 */

/** Bodies smaller than `body` bytes are parsed as they are; strings shorter than `string` bytes stay in the text. */
export const LONG = { body: 1024 * 1024, string: 64 * 1024 }

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const CONTROL = /[\u0000-\u001f]/

interface BufferConstructor {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): Uint8Array
}
/** Node's Buffer, whose `indexOf` is memchr: five to ten times the typed array's. */
const NodeBuffer = (globalThis as { Buffer?: BufferConstructor }).Buffer

export interface TakenStrings {
  /** The body's text, each long string replaced by its name. */
  text: string
  /** Name to string; `putBack` deletes each one it puts back, so that only the input holds it then. */
  strings: Map<string, string>
}

/** The body's text with its long strings taken out, or undefined when it has none (or is small). */
export function takeLongStrings(bytes: Uint8Array, limits = LONG): TakenStrings | undefined {
  if (bytes.byteLength < limits.body) return undefined
  const spans = longStringSpans(bytes, limits.string)
  if (spans.length === 0) return undefined
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) =>
    byte.toString(16).padStart(2, '0'),
  ).join('')
  // The body's own BOM is dropped as Request.text() drops it; inside, a U+FEFF is content.
  const first = new TextDecoder()
  const rest = new TextDecoder('utf-8', { ignoreBOM: true })
  const strings = new Map<string, string>()
  const pieces: string[] = []
  let at = 0
  for (const [start, end] of spans) {
    const value = rest.decode(bytes.subarray(start, end))
    if (CONTROL.test(value)) return undefined
    const name = `${nonce}:${strings.size}`
    strings.set(name, value)
    pieces.push((at === 0 ? first : rest).decode(bytes.subarray(at, start)), name)
    at = end
  }
  pieces.push(rest.decode(bytes.subarray(at)))
  return { text: pieces.join(''), strings }
}

/** Puts the strings back in `value` (objects and arrays, changed in place) wherever a name stands. */
export function putBack(value: unknown, strings: Map<string, string>): void {
  const pending: unknown[] = [value]
  while (pending.length > 0 && strings.size > 0) {
    const node = pending.pop()
    if (typeof node !== 'object' || node === null) continue
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const inner = record[key]
      if (typeof inner === 'string') {
        const string = strings.get(inner)
        if (string !== undefined) {
          record[key] = string
          strings.delete(inner)
        }
      } else if (typeof inner === 'object' && inner !== null) pending.push(inner)
    }
  }
}

/** `[start, end)` of each string value of at least `minLength` bytes without an escape. */
function longStringSpans(body: Uint8Array, minLength: number): Array<[number, number]> {
  const bytes =
    NodeBuffer === undefined ? body : NodeBuffer.from(body.buffer, body.byteOffset, body.byteLength)
  const spans: Array<[number, number]> = []
  let backslash = bytes.indexOf(BACKSLASH)
  // The next backslash at or after `from` (searched forward only, so the whole scan is one pass).
  const escapeFrom = (from: number) => {
    if (backslash !== -1 && backslash < from) backslash = bytes.indexOf(BACKSLASH, from)
    return backslash
  }
  for (let position = 0; ; ) {
    const open = bytes.indexOf(QUOTE, position)
    if (open === -1) return spans
    let close = bytes.indexOf(QUOTE, open + 1)
    let escaped = false
    for (let next = escapeFrom(open + 1); next !== -1 && close !== -1 && next < close; ) {
      escaped = true
      // The quote right after a backslash is escaped: the string goes on.
      if (next + 1 === close) close = bytes.indexOf(QUOTE, close + 1)
      next = escapeFrom(next + 2)
    }
    // Unterminated: JSON.parse says so.
    if (close === -1) return spans
    const inside = !onlyBlankBefore(bytes, open)
    if (!escaped && inside && close - open - 1 >= minLength && !isKey(bytes, close + 1))
      spans.push([open + 1, close])
    position = close + 1
  }
}

/** Whether only whitespace (and a BOM) comes before `at`: a string there is the whole value, with no place to go back to. */
function onlyBlankBefore(bytes: Uint8Array, at: number): boolean {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  for (let i = start; i < at; i++) if (!isBlank(bytes[i]!)) return false
  return true
}

function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d
}

/** Whether a colon follows (after whitespace): the string was an object's key. */
function isKey(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    const byte = bytes[i]!
    if (!isBlank(byte)) return byte === COLON
  }
  return false
}
