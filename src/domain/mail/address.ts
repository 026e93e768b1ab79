/**
 * Addresses as callers write them: `a@b.c`, `Ann Example <a@b.c>`,
 * `"Example, Ann" <a@b.c>`, several to a string separated by commas
 * (RFC 5322 §3.4 `mailbox-list`, without groups or comments).
 */
import { badRequest } from '../errors.ts'
import { toAsciiDomain } from './domain-name.ts'
import type { Mailbox } from './message.ts'

const ATEXT = "A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~"
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(?:\\.[${ATEXT}]+)*$`)
/** RFC 5322 §3.2.4 quoted-string, printable ASCII only. */
const QUOTED_LOCAL_PART = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/
const LINE_BREAK = /[\r\n]/
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/
/** RFC 5322 §3.2.3 specials: a display name holding one must be quoted. */
const SPECIALS = /[()<>[\]:;@\\,."]/
const MAX_LOCAL_PART = 64
const MAX_ADDRESS = 254

/**
 * Parses exactly one mailbox (`a@b.c` or `Name <a@b.c>`).
 * Throws a `BAD_REQUEST` ServiceError saying what is wrong.
 */
export function parseMailbox(text: string): Mailbox {
  const mailboxes = parseAddressList(text)
  if (mailboxes.length !== 1) {
    throw badRequest(`Expected one address, got ${mailboxes.length} in ${quote(text)}`)
  }
  return mailboxes[0]!
}

/**
 * Parses an address list: a string of comma-separated mailboxes, or an array
 * whose items each hold one or more. An empty array gives no mailboxes; an
 * empty string is refused. Throws a `BAD_REQUEST` ServiceError.
 */
export function parseAddressList(input: string | string[]): Mailbox[] {
  if (typeof input === 'string') return parseList(input)
  return input.flatMap(parseList)
}

/** A mailbox as plain text for records and logs: `Ann <a@b.c>` or `a@b.c`; re-parses to the same mailbox. */
export function formatMailbox(mailbox: Mailbox): string {
  if (mailbox.name === undefined) return mailbox.address
  const name = SPECIALS.test(mailbox.name) ? `"${mailbox.name.replace(/[\\"]/g, '\\$&')}"` : mailbox.name
  return `${name} <${mailbox.address}>`
}

function parseList(text: string): Mailbox[] {
  if (LINE_BREAK.test(text)) throw badRequest(`Address contains a line break (CR or LF): ${quote(text)}`)
  if (CONTROL.test(text)) throw badRequest(`Address contains a control character: ${quote(text)}`)
  if (text.trim() === '') throw badRequest('Address is empty')
  return splitList(text).map((item) => {
    if (item === '') throw badRequest(`Address list ${quote(text)} has an empty entry`)
    return parseListItem(item)
  })
}

/** Splits at commas outside quoted strings and angle brackets; items come back trimmed. */
function splitList(text: string): string[] {
  const items: string[] = []
  let start = 0
  let inQuotes = false
  let inAngle = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (inQuotes) {
      if (char === '\\') i++
      else if (char === '"') inQuotes = false
    } else if (char === '"') inQuotes = true
    else if (char === '<') inAngle = true
    else if (char === '>') inAngle = false
    else if (char === ',' && !inAngle) {
      items.push(text.slice(start, i).trim())
      start = i + 1
    }
  }
  if (inQuotes) throw badRequest(`Address ${quote(text)} has an unclosed quote`)
  items.push(text.slice(start).trim())
  return items
}

function parseListItem(item: string): Mailbox {
  const open = indexOutsideQuotes(item, '<', 0)
  if (open === -1) {
    if (item.includes('>')) throw badRequest(`Address ${quote(item)} has a > without a <`)
    if (/\s/.test(item.replace(/"(?:[^"\\]|\\.)*"/g, ''))) {
      throw badRequest(`Address ${quote(item)} is not valid: write a@example.com or Name <a@example.com>`)
    }
    return { address: parseAddrSpec(item, item) }
  }
  const close = indexOutsideQuotes(item, '>', open + 1)
  if (close === -1) throw badRequest(`Address ${quote(item)} has a < without a closing >`)
  if (item.slice(close + 1).trim() !== '') {
    throw badRequest(`Address ${quote(item)} has text after the closing >`)
  }
  const address = parseAddrSpec(item.slice(open + 1, close).trim(), item)
  const name = parseDisplayName(item.slice(0, open), item)
  return name === '' ? { address } : { name, address }
}

function indexOutsideQuotes(text: string, wanted: string, from: number): number {
  let inQuotes = false
  for (let i = from; i < text.length; i++) {
    const char = text[i]
    if (inQuotes) {
      if (char === '\\') i++
      else if (char === '"') inQuotes = false
    } else if (char === '"') inQuotes = true
    else if (char === wanted) return i
  }
  return -1
}

/** Unquotes quoted parts (RFC 5322 quoted-pair escapes) and collapses whitespace outside them. */
function parseDisplayName(raw: string, item: string): string {
  let name = ''
  let inQuotes = false
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i]!
    if (inQuotes) {
      if (char === '\\' && i + 1 < raw.length) name += raw[++i]
      else if (char === '"') inQuotes = false
      else name += char
    } else if (char === '"') inQuotes = true
    else if (char === '>') throw badRequest(`Address ${quote(item)} has a > in its display name`)
    else if (/\s/.test(char)) {
      if (!name.endsWith(' ')) name += ' '
    } else name += char
  }
  return name.trim()
}

function parseAddrSpec(spec: string, item: string): string {
  if (spec === '') throw badRequest(`Address ${quote(item)} has nothing between < and >`)
  const at = spec.lastIndexOf('@')
  if (at === -1) throw badRequest(`Address ${quote(item)} is missing an @`)
  const localPart = spec.slice(0, at)
  const domain = spec.slice(at + 1)
  if (localPart === '') throw badRequest(`Address ${quote(item)} has nothing before the @`)
  if (domain === '') throw badRequest(`Address ${quote(item)} has nothing after the @`)
  if (localPart.length > MAX_LOCAL_PART || !(DOT_ATOM.test(localPart) || QUOTED_LOCAL_PART.test(localPart))) {
    throw badRequest(`Address ${quote(item)} has an invalid local part (before the @)`)
  }
  if (toAsciiDomain(domain) === undefined) {
    throw badRequest(`Address ${quote(item)} has an invalid domain (after the @)`)
  }
  if (spec.length > MAX_ADDRESS)
    throw badRequest(`Address ${quote(item)} is longer than ${MAX_ADDRESS} characters`)
  return spec
}

/** The value for an error message: JSON-quoted (so control characters show) and cut short. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)
}
