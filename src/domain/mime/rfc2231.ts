/**
 * File names of attachments, written as Gmail, Thunderbird and nodemailer
 * write them so that every reader decodes the exact name:
 * - `Content-Disposition`: a plain quoted `filename="…"` for a printable
 *   ASCII name, else RFC 2231 `filename*=utf-8''…` alone (no lossy plain
 *   twin beside it: Python flags the duplicate and keeps the lossy one);
 *   either split into numbered continuations (`filename*0=`, `filename*0*=`)
 *   when it would not fit a 76-character line;
 * - `Content-Type`: `name="…"` for an ASCII name, else RFC 2047
 *   encoded-words in the quotes (`name="=?utf-8?Q?…?="`), several when
 *   long, each at most 75 characters and holding whole characters, which
 *   readers that look at `name` (Outlook among them) decode.
 */
import { chooseWordEncoding, encodedWord } from './encoded-word.ts'
import { isPlainText, MAX_LINE } from './header-fold.ts'

const HEX = '0123456789ABCDEF'
/** RFC 5987 attr-char: what an extended value may carry without percent-encoding. */
const ATTR_CHAR = new Uint8Array(128)
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~') {
  ATTR_CHAR[char.charCodeAt(0)] = 1
}
/** `name="` before the first encoded-word of a `Content-Type` name, `"` after the last. */
const NAME_PREFIX = 'name="'
const utf8 = new TextEncoder()

/** Whether the name needs the RFC 2231 / RFC 2047 forms: not printable ASCII, or holding `=?`. */
export function needsExtendedFilename(filename: string): boolean {
  return !isPlainText(filename)
}

/** A quoted-string parameter value (RFC 2045 §5.1), escaping quotes and backslashes. */
export function quotedValue(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`
}

/**
 * The file name parameters of `Content-Disposition` as fold tokens, each
 * fitting a 76-character line with its leading space and trailing semicolon.
 */
export function filenameParameters(filename: string): string[] {
  return needsExtendedFilename(filename)
    ? extendedFilenameParameters(filename)
    : plainFilenameParameters(filename)
}

/**
 * `filename="…"`, or RFC 2231 §3 continuations of quoted segments
 * (`filename*0="…"; filename*1="…"`) for a name too long for one line.
 */
export function plainFilenameParameters(filename: string, attribute = 'filename'): string[] {
  const single = `${attribute}=${quotedValue(filename)}`
  if (single.length + 2 <= MAX_LINE) return [single]
  const parameters: string[] = []
  let start = 0
  for (let index = 0; start < filename.length; index++) {
    // The room for the quoted text: the line less ` `, `attribute*N="`, `"` and `;`.
    const room = MAX_LINE - 5 - `${attribute}*${index}=`.length
    let end = start
    let length = 0
    while (end < filename.length) {
      const cost = filename[end] === '"' || filename[end] === '\\' ? 2 : 1
      if (length + cost > room) break
      length += cost
      end++
    }
    parameters.push(`${attribute}*${index}=${quotedValue(filename.slice(start, end))}`)
    start = end
  }
  return parameters
}

/**
 * The `filename*` parameters of `filename` as fold tokens, each fitting a
 * 76-character line with its leading space and trailing semicolon. A
 * section holds whole characters: Python decodes each one apart, and reads
 * a character cut between two as undecodable bytes.
 */
export function extendedFilenameParameters(filename: string, attribute = 'filename'): string[] {
  const single = `${attribute}*=utf-8''${percentEncode(filename)}`
  if (single.length + 2 <= MAX_LINE) return [single]
  const characters = percentEncodedCharacters(filename)
  const parameters: string[] = []
  let parameter = ''
  for (const encoded of characters) {
    if (parameter !== '' && parameter.length + encoded.length + 2 > MAX_LINE) {
      parameters.push(parameter)
      parameter = ''
    }
    if (parameter === '')
      parameter = `${attribute}*${parameters.length}*=${parameters.length === 0 ? "utf-8''" : ''}`
    parameter += encoded
  }
  parameters.push(parameter)
  return parameters
}

/**
 * The `name` parameter of `Content-Type` as fold tokens: `name="…"` for a
 * plain name (one token: a quoted string does not fold), else
 * `name="=?utf-8?…?=`, `=?utf-8?…?=`…, ending in `"`, each token fitting a
 * 76-character line with its leading space. The space a fold leaves between
 * two encoded-words is not part of the name (RFC 2047 §6.2).
 */
export function contentTypeNameParameter(filename: string): string[] {
  if (!needsExtendedFilename(filename)) return [`name=${quotedValue(filename)}`]
  const encoding = chooseWordEncoding(filename)
  // Room for a word on any of the lines: the first carries ` name="`, the last the closing quote.
  const room = MAX_LINE - 1 - NAME_PREFIX.length
  const tokens: string[] = []
  let index = 0
  while (index < filename.length) {
    const { word, end } = encodedWord(filename, index, room, encoding)
    tokens.push(word)
    index = end
  }
  tokens[0] = NAME_PREFIX + tokens[0]
  tokens[tokens.length - 1] += '"'
  return tokens
}

function percentEncode(text: string): string {
  let out = ''
  for (const byte of utf8.encode(text)) {
    out +=
      byte < 128 && ATTR_CHAR[byte] === 1 ? String.fromCharCode(byte) : '%' + HEX[byte >> 4] + HEX[byte & 15]
  }
  return out
}

/** The RFC 5987 percent-encoding of each character of `text` (its UTF-8 bytes, as one string each). */
function percentEncodedCharacters(text: string): string[] {
  const characters: string[] = []
  let current = ''
  for (const byte of utf8.encode(text)) {
    // A UTF-8 continuation byte (10xxxxxx) belongs to the character before it.
    if ((byte & 0xc0) !== 0x80 && current !== '') {
      characters.push(current)
      current = ''
    }
    current +=
      byte < 128 && ATTR_CHAR[byte] === 1 ? String.fromCharCode(byte) : '%' + HEX[byte >> 4] + HEX[byte & 15]
  }
  if (current !== '') characters.push(current)
  return characters
}
