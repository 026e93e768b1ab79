/**
 * Which extra header names a caller may set: RFC 5322 §3.6.8 field names
 * that the composer does not own.
 */

/** RFC 5322 §3.6.8: printable US-ASCII except colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/

/**
 * Headers the composer writes itself, or that belong to transport and trace
 * (RFC 5321 §4.4, RFC 6376, RFC 8617): a caller setting one could forge or
 * break the message.
 */
const STRUCTURAL = new Set([
  'from',
  'sender',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'mime-version',
  'return-path',
  'received',
  'received-spf',
  'delivered-to',
  'dkim-signature',
  'domainkey-signature',
  'authentication-results',
  'arc-seal',
  'arc-message-signature',
  'arc-authentication-results',
  'x-google-dkim-signature',
])

const STRUCTURAL_PREFIXES = ['content-', 'resent-']

/**
 * Headers that say where a message goes or where its bounces and receipts
 * go, which the envelope decides (RFC 5321 §4.4, RFC 8098): trace written
 * by servers on the way, or the legacy and receipt routing that would send
 * replies, bounces or read receipts to an address the account never chose.
 */
const ROUTING = new Set([
  'envelope-to',
  'envelope-from',
  'x-envelope-to',
  'x-envelope-from',
  'x-original-to',
  'x-rcpt-to',
  'x-forwarded-to',
  'apparently-to',
  'errors-to',
  'return-receipt-to',
  'disposition-notification-to',
  'disposition-notification-options',
])

/** Whether `name` is a syntactically valid header field name. */
export function isFieldName(name: string): boolean {
  return FIELD_NAME.test(name)
}

/** Whether `name` (any case) routes delivery, bounces or receipts (see ROUTING). */
export function isRoutingHeader(name: string): boolean {
  return ROUTING.has(name.toLowerCase())
}

/** Whether `name` (any case) is a header the composer or the transport owns. */
export function isStructuralHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return STRUCTURAL.has(lower) || STRUCTURAL_PREFIXES.some((prefix) => lower.startsWith(prefix))
}
