/**
 * Address fields (From, To, Cc, Bcc, Reply-To) per RFC 5322 §3.4: display
 * names as atoms, quoted strings, or RFC 2047 encoded-words (§5 (3)) when
 * they are not ASCII; IDN domains in their ASCII form.
 */
import { toAsciiDomain } from '../mail/domain-name.ts'
import type { Mailbox } from '../mail/message.ts'
import { chooseWordEncoding, encodedWord, MAX_ENCODED_WORD, MIN_ENCODED_WORD } from './encoded-word.ts'
import { appendToken, endField, type HeaderField, isPlainText, MAX_LINE, startField } from './header-fold.ts'

const ATOM_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?: [A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/
/** A quoted name or a word longer than this is encoded instead: encoded-words fold, quoted strings and words do not. */
const MAX_QUOTED = 70

/** One address field with its mailboxes separated by commas. */
export function addressField(name: string, mailboxes: Mailbox[]): string {
  const field = startField(name)
  mailboxes.forEach((mailbox, index) => {
    const separator = index < mailboxes.length - 1 ? ',' : ''
    const address = asciiAddress(mailbox.address)
    if (mailbox.name === undefined || mailbox.name === '') {
      // Parsers read a bare quoted local part badly; in angle brackets they do not.
      appendToken(field, (address.startsWith('"') ? `<${address}>` : address) + separator)
      return
    }
    appendDisplayName(field, mailbox.name)
    appendToken(field, `<${address}>${separator}`)
  })
  return endField(field)
}

/** `local@domain` with the domain as A-labels (RFC 5890), which a 7-bit header can carry. */
export function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@')
  const domain = address.slice(at + 1)
  return `${address.slice(0, at)}@${toAsciiDomain(domain) ?? domain}`
}

function appendDisplayName(field: HeaderField, name: string): void {
  const words = name.split(' ')
  if (ATOM_PHRASE.test(name) && !name.includes('=?') && words.every((word) => word.length <= MAX_QUOTED)) {
    for (const word of words) appendToken(field, word)
    return
  }
  const quoted = `"${name.replace(/[\\"]/g, '\\$&')}"`
  if (isPlainText(name) && quoted.length <= MAX_QUOTED) {
    appendToken(field, quoted)
    return
  }
  // The first word of a field shares its line with the field name: no fold may come before it.
  const firstRoom = field.started ? MAX_ENCODED_WORD : MAX_LINE - field.column - 1
  for (const word of phraseWords(name, firstRoom)) appendToken(field, word)
}

/**
 * A display name as RFC 2047 encoded-words (§5 (3)), each a whole token
 * that a fold goes before, never inside: one word when the name fits in 75
 * characters (`firstRoom` for the first, on the field name's line), else as few full words as hold it, each cut between two
 * characters: at a space of the name where one falls in the second half of
 * the word, and never inside a grapheme (before a combining mark, a
 * variation selector or skin tone, around a zero-width joiner, inside a
 * flag). Readers drop the space between two encoded-words (§6.2) but
 * Python's address parser keeps it, so a name is only split when it must be.
 */
export function phraseWords(name: string, firstRoom = MAX_ENCODED_WORD): string[] {
  const encoding = chooseWordEncoding(name)
  const words: string[] = []
  let start = 0
  while (start < name.length) {
    const room = words.length === 0 ? Math.max(firstRoom, MIN_ENCODED_WORD) : MAX_ENCODED_WORD
    const longest = encodedWord(name, start, room, encoding)
    let end = longest.end
    if (end < name.length) {
      const space = name.lastIndexOf(' ', end)
      if (space > start && space - start >= (end - start) / 2) end = space
      else end = graphemeCut(name, start, end)
    }
    words.push(
      end === longest.end ? longest.word : encodedWord(name.slice(0, end), start, room, encoding).word,
    )
    start = end
  }
  return words
}

/** Joins a character to the one before it: combining marks, variation selectors, skin tones, ZWJ, tags. */
const JOINS_PREVIOUS = /^(?:\p{M}|\u200d|[\ufe0e\ufe0f\u{1f3fb}-\u{1f3ff}\u{e0020}-\u{e007f}])/u
const REGIONAL_INDICATOR = /^[\u{1f1e6}-\u{1f1ff}]$/u

/** The last index at or before `end`, after `start`, that does not cut a grapheme; `end` when there is none. */
function graphemeCut(name: string, start: number, end: number): number {
  for (let cut = end; cut > start; cut--) {
    if (isLowSurrogate(name.charCodeAt(cut))) continue
    const next = String.fromCodePoint(name.codePointAt(cut)!)
    const previous = name.slice(isLowSurrogate(name.charCodeAt(cut - 1)) ? cut - 2 : cut - 1, cut)
    const inside =
      JOINS_PREVIOUS.test(next) ||
      previous === '\u200d' ||
      (REGIONAL_INDICATOR.test(previous) && REGIONAL_INDICATOR.test(next))
    if (!inside) return cut
  }
  return end
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}
