/** Shared helpers of the MIME tests. */
import PostalMime, { type Address, type Email } from 'postal-mime'
import type { CompositionContext, Mail, Mailbox } from '../../../src/domain/mail/message.ts'
import { asciiAddress } from '../../../src/domain/mime/address-header.ts'
import { composeMessage } from '../../../src/domain/mime/compose.ts'

/** A context with a fixed date and Message-ID, and numbered boundaries. */
export function fixedContext(): CompositionContext {
  let count = 0
  return {
    date: new Date('2025-07-01T09:05:03Z'),
    messageId: '<fixed.id@example.com>',
    boundary: () => `=_boundary_${++count}`,
  }
}

/** A minimal valid mail, to spread other fields over. */
export function simpleMail(fields: Partial<Mail> = {}): Mail {
  return {
    from: { address: 'ann@example.com' },
    to: [{ address: 'bob@example.com' }],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 'Hello',
    text: 'Hi Bob',
    attachments: [],
    headers: [],
    references: [],
    ...fields,
  }
}

export function latin1(bytes: Uint8Array): string {
  return new TextDecoder('latin1').decode(bytes)
}

/** The top-level header block of a message, as raw text (up to the empty line). */
export function headerBlock(message: string): string {
  const end = message.indexOf('\r\n\r\n')
  return end === -1 ? message : message.slice(0, end + 2)
}

/** Header fields of a block as [name, unfolded value], in order. */
export function headerFields(block: string): Array<[string, string]> {
  const unfolded = block.replace(/\r\n(?=[ \t])/g, '')
  return unfolded
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(':')
      return [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')]
    })
}

/** The value of the header `name` (any case) in a block, unfolded; undefined when absent. */
export function headerValue(block: string, name: string): string | undefined {
  return headerFields(block).find(([field]) => field.toLowerCase() === name.toLowerCase())?.[1]
}

/** Decodes RFC 2047 encoded-words (utf-8, B or Q), dropping the whitespace between adjacent words. */
export function decodeEncodedWords(value: string): string {
  const words = /=\?utf-8\?([BQ])\?([^?]*)\?=/gi
  return value.replace(/(\?=)\s+(?==\?)/g, '$1').replace(words, (_, encoding: string, payload: string) => {
    const bytes =
      encoding.toUpperCase() === 'B'
        ? Uint8Array.from(atob(payload), (char) => char.charCodeAt(0))
        : Uint8Array.from(
            payload
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/g, (__, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
            (char) => char.charCodeAt(0),
          )
    return new TextDecoder().decode(bytes)
  })
}

/** Decodes quoted-printable text to a string (UTF-8). */
export function decodeQuotedPrintable(text: string): string {
  const binary = text
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)))
}

/**
 * postal-mime turns CRLF into LF (not always), adds a final newline, and
 * reports an empty single part as no text: compare texts without any of it.
 */
export function normalizeText(text: string | undefined): string {
  return (text ?? '').replace(/\r\n?/g, '\n').replace(/\n+$/, '')
}

/** A mailbox as postal-mime reports it: the name decoded ('' when none), the domain in ASCII. */
export function asParsed(mailbox: Mailbox): { name: string; address: string } {
  return { name: mailbox.name ?? '', address: asciiAddress(mailbox.address) }
}

export function parsedMailboxes(
  addresses: Address[] | Address | undefined,
): Array<{ name: string; address: string }> {
  const list = addresses === undefined ? [] : Array.isArray(addresses) ? addresses : [addresses]
  return list
    .flatMap((address) => (address.group === undefined ? [address] : address.group))
    .map(({ name, address }) => ({ name, address }))
}

/** Composes `mail` and parses the bytes back. */
export async function roundTrip(mail: Mail): Promise<Email> {
  return PostalMime.parse(composeMessage(mail, fixedContext()))
}
