/**
 * The validated mail model: what `composeMessage` turns into RFC 5322 bytes.
 * Built from a caller's `MailInput` by `toMail`; every string here
 * is already checked (no CR/LF in header text, addresses valid).
 */

/** One address with an optional display name (RFC 5322 `mailbox`). */
export interface Mailbox {
  /** Display name as the user wrote it, unquoted and unencoded; may be non-ASCII. */
  name?: string
  /** `local@domain`; the domain may be an IDN (kept as given, Unicode or punycode). */
  address: string
}

export interface Attachment {
  filename: string
  contentType: string
  /** The bytes; empty when they are an upload's (`upload`). */
  content: Uint8Array
  /** Set for inline parts referenced as `cid:` from the HTML; without angle brackets. */
  contentId?: string
  /** Bytes sent earlier to `POST /uploads`, read while the message is composed to storage. */
  upload?: { uploadId: string }
}

export interface Mail {
  from: Mailbox
  to: Mailbox[]
  cc: Mailbox[]
  bcc: Mailbox[]
  replyTo: Mailbox[]
  subject: string
  text?: string
  html?: string
  attachments: Attachment[]
  /** Extra headers in the order given; names and values already checked. */
  headers: Array<[name: string, value: string]>
  /** Message-ID of the message replied to, with angle brackets. */
  inReplyTo?: string
  /** Message-IDs of the thread, with angle brackets. */
  references: string[]
  /** Gmail thread id; travels beside the raw message, not inside it. */
  threadId?: string
}

/** What composition needs from the outside world, passed in so the domain stays pure. */
export interface CompositionContext {
  /** The message's Date header. */
  date: Date
  /** The message's Message-ID, with angle brackets, e.g. `<id@host>`. */
  messageId: string
  /** Produces a fresh MIME boundary; called once per multipart. */
  boundary: () => string
}

/** Gmail's limit on the raw message (discovery document maxSize): 35 MiB. */
export const MAX_MESSAGE_BYTES = 36_700_160
/** Gmail's limit of recipients (To + Cc + Bcc) per message. */
export const MAX_RECIPIENTS = 100
/** RFC 5322 line limit, applied to the subject. */
export const MAX_SUBJECT_LENGTH = 998
