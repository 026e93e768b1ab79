/**
 * What the mailbox shows of a received message: sender, recipients,
 * subject, read from its header section (RFC 5322 §2.2, unfolded per §2.2.3,
 * encoded-words decoded per RFC 2047). Not a full MIME parser.
 */

import { ascii, indexOfBytes } from '../domain/bytes.ts'
import { parseAddressList } from './address-list.ts'
import { decodeEncodedWords } from './encoded-words.ts'

export interface MessageSummary {
  /** Address of the From header, when there is one. */
  from?: string
  to: string[]
  cc: string[]
  bcc: string[]
  /** To, Cc and Bcc without duplicates (case-insensitive). */
  recipients: string[]
  subject: string
  messageIdHeader?: string
}

/** The header fields of a message, names lower-cased, values unfolded, in order. */
export function readHeaderFields(raw: Uint8Array): Array<[name: string, value: string]> {
  const crlf = indexOfBytes(raw, ascii('\r\n\r\n'))
  const lf = indexOfBytes(raw, ascii('\n\n'))
  const ends = [crlf, lf].filter((index) => index >= 0)
  const end = ends.length === 0 ? raw.length : Math.min(...ends)
  // RFC 6532 allows UTF-8 in header fields; anything else shows as U+FFFD.
  const section = new TextDecoder().decode(raw.subarray(0, end)).replace(/\r?\n(?=[ \t])/g, '')
  const fields: Array<[string, string]> = []
  for (const line of section.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()])
  }
  return fields
}

export function summarizeMessage(raw: Uint8Array): MessageSummary {
  const fields = readHeaderFields(raw)
  const first = (name: string): string | undefined => fields.find(([field]) => field === name)?.[1]
  const addresses = (name: string): string[] =>
    fields.filter(([field]) => field === name).flatMap(([, value]) => parseAddressList(value))
  const to = addresses('to')
  const cc = addresses('cc')
  const bcc = addresses('bcc')
  const seen = new Set<string>()
  const recipients = [...to, ...cc, ...bcc].filter((address) => {
    const key = address.toLowerCase()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  const summary: MessageSummary = {
    to,
    cc,
    bcc,
    recipients,
    subject: decodeEncodedWords(first('subject') ?? ''),
  }
  const from = parseAddressList(first('from') ?? '')[0]
  if (from !== undefined) summary.from = from
  const messageId = first('message-id')
  if (messageId !== undefined) summary.messageIdHeader = messageId
  return summary
}
