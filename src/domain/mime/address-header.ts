/**
 * Address fields (From, To, Cc, Bcc, Reply-To) per RFC 5322 §3.4: display
 * names as atoms, quoted strings, or RFC 2047 encoded-words (§5 (3)) when
 * they are not ASCII; IDN domains in their ASCII form.
 */
import { toAsciiDomain } from '../mail/domain-name.ts'
import type { Mailbox } from '../mail/message.ts'
import {
  appendEncoded,
  appendToken,
  endField,
  type HeaderField,
  isPlainText,
  startField,
} from './header-fold.ts'

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
  appendEncoded(field, name)
}
