/**
 * Header fields written as folded lines (RFC 5322 §2.2.3): tokens joined by
 * single spaces, a line break inserted before a space whenever the line
 * would pass 76 characters. A token is never split, so an encoded-word is
 * never cut (RFC 2047 §2).
 */
import { chooseWordEncoding, encodedWord, MAX_ENCODED_WORD, MIN_ENCODED_WORD } from './encoded-word.ts'

/** Fold before a line would pass this many characters (RFC 2045 and 2047 keep to 76). */
export const MAX_LINE = 76
/** RFC 5322 §2.1.1: no line may pass 998 octets, whatever folding can do. */
const MAX_OCTETS = 998

/** A header field being written: its text so far and the column the last line ends at. */
export interface HeaderField {
  text: string
  column: number
  /** Whether a token follows the colon yet: no fold may leave the field name alone on its line. */
  started: boolean
}

export function startField(name: string): HeaderField {
  return { text: `${name}:`, column: name.length + 1, started: false }
}

/** Appends a space and an unbreakable token, folding before it when the line would get too long. */
export function appendToken(field: HeaderField, token: string): void {
  if (field.started && field.column + 1 + token.length > MAX_LINE) {
    field.text += '\r\n'
    field.column = 0
  }
  field.text += ' ' + token
  field.column += 1 + token.length
  field.started = true
}

/** Appends `text` as RFC 2047 encoded-words sized to the room left on each line. */
export function appendEncoded(field: HeaderField, text: string): void {
  const encoding = chooseWordEncoding(text)
  let index = 0
  do {
    let room = MAX_LINE - field.column - 1
    if (room < MIN_ENCODED_WORD && field.started) room = MAX_ENCODED_WORD
    const { word, end } = encodedWord(text, index, Math.max(room, MIN_ENCODED_WORD), encoding)
    appendToken(field, word)
    index = end
  } while (index < text.length)
}

/**
 * Appends unstructured text (RFC 5322 §3.2.5) as is when it is printable
 * ASCII that cannot be read as an encoded-word and whose words fit, else as
 * encoded-words. With `strict`, a word fits only within 76-character lines
 * (for the Subject); otherwise within 998 octets, since an extra header may
 * be structured (a long URL in List-Unsubscribe must stay as it is).
 */
export function appendUnstructured(field: HeaderField, text: string, strict = false): void {
  const tokens = foldableTokens(text)
  const limit = strict ? MAX_LINE : MAX_OCTETS
  const firstRoom = limit - field.column - 1
  const room = limit - 1
  const fits = tokens.every((token, index) => token.length <= (index === 0 ? firstRoom : room))
  if (fits && isPlainText(text)) {
    for (const token of tokens) appendToken(field, token)
  } else appendEncoded(field, text)
}

/** Printable ASCII (and tab) that holds nothing a reader would decode as an encoded-word. */
export function isPlainText(text: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(text) && !text.includes('=?')
}

/**
 * Splits at the spaces a fold may replace: those followed by a visible
 * character, so that no folded line is only whitespace. Joining the tokens
 * with single spaces gives back the text.
 */
export function foldableTokens(text: string): string[] {
  return text.split(/ (?=[^ \t])/)
}

/** The finished field, ending in CRLF. */
export function endField(field: HeaderField): string {
  return field.text + '\r\n'
}

/** A whole field of tokens, e.g. `References`. */
export function foldedField(name: string, tokens: string[]): string {
  const field = startField(name)
  for (const token of tokens) appendToken(field, token)
  return endField(field)
}
