/**
 * What a reader must decode from a composed `Mail`, and the differences
 * between that and what it did decode. The only allowances are the ones
 * the project documents or that carry no meaning:
 * - line breaks: every break of a body is sent as CRLF (README, "MIME"), so
 *   bodies compare with CRLF, CR and LF alike;
 * - the domain of an address compares in its ASCII form (an IDN domain and
 *   its A-labels are one address; mailparser hands back Unicode);
 * - a media type compares without its parameters, case-insensitively;
 * - an empty body is no body (mailparser reports none);
 * - whitespace at the ends of the Subject or an extra header is not part of
 *   its value to any reader (RFC 5322 §2.2.3 unfolding, every reader trims);
 * - attachments compare as a set (a reader lists them in message order,
 *   which puts inline parts first);
 * - what a reader declares of itself (`MailReader`): postal-mime ends every
 *   body of a one-part message in a line break; Python keeps the space
 *   between the encoded-words of a display name, so a name too long for
 *   one 75-character word may read with a space where it was cut; and the
 *   defects Python flags in the RFC 2047 `name` of Content-Type.
 */
import type { Mail, Mailbox } from '../../src/domain/mail/message.ts'
import { asciiAddress, phraseWords } from '../../src/domain/mime/address-header.ts'
import type { MailReader, ReadAttachment, ReadMail, ReadMailbox } from './mail-readers.ts'

/** What every reader must hand back for `mail`. */
export function expectedReading(mail: Mail): ReadMail {
  const text = mail.text ?? (mail.html === undefined ? '' : undefined)
  return {
    subject: mail.subject,
    from: [mailbox(mail.from)],
    to: mail.to.map(mailbox),
    cc: mail.cc.map(mailbox),
    bcc: mail.bcc.map(mailbox),
    replyTo: mail.replyTo.map(mailbox),
    text,
    html: mail.html,
    attachments: mail.attachments.map((attachment) => ({
      filename: attachment.filename,
      contentType: mediaType(attachment.contentType),
      contentId: attachment.contentId === undefined ? undefined : `<${attachment.contentId}>`,
      content: attachment.content,
    })),
    headers: Object.fromEntries(mail.headers.map(([name, value]) => [name.toLowerCase(), value])),
    defects: [],
  }
}

function mailbox(value: Mailbox): ReadMailbox {
  return { name: value.name ?? '', address: asciiAddress(value.address) }
}

/** The names of the extra headers a reader is asked for. */
export function headerNames(mail: Mail): string[] {
  return mail.headers.map(([name]) => name)
}

/** Sentences naming each field the reader decoded differently from `expected`; empty when it read it exactly. */
export function differences(expected: ReadMail, read: ReadMail, reader: MailReader): string[] {
  const found: string[] = []
  const same = (field: string, want: unknown, got: unknown): void => {
    if (JSON.stringify(want) !== JSON.stringify(got))
      found.push(`${field}: sent ${JSON.stringify(want)}, read ${JSON.stringify(got)}`)
  }
  same('subject', expected.subject?.trim() ?? '', read.subject?.trim() ?? '')
  for (const field of ['from', 'to', 'cc', 'bcc', 'replyTo'] as const) {
    const names = expected[field].map((mailbox) => mailbox.name)
    const readBoxes = read[field].map((mailbox, index) => {
      const name = names[index]
      return reader.readsNameWordsAsPhrase === true && name !== undefined && cutName(name, mailbox.name)
        ? { ...mailbox, name }
        : mailbox
    })
    same(field, expected[field], readBoxes.map(asciiMailbox))
  }
  const body = (text: string | undefined): string => {
    const lines = text?.replace(/\r\n?/g, '\n') ?? ''
    if (lines === '\n' && reader.readsEmptyBodyAsLineBreak === true) return ''
    return reader.endsBodiesInLineBreak === true && lines !== '' && !lines.endsWith('\n')
      ? `${lines}\n`
      : lines
  }
  same('text', body(expected.text), body(read.text))
  same('html', body(expected.html), body(read.html))
  const filenameAsRead = reader.filenameAsRead
  const sent = attachmentKeys(
    filenameAsRead === undefined
      ? expected.attachments
      : expected.attachments.map((attachment) => ({
          ...attachment,
          filename: attachment.filename === undefined ? undefined : filenameAsRead(attachment.filename),
        })),
  )
  const got = attachmentKeys(read.attachments)
  const missing = sent.filter((key) => !got.includes(key))
  const unexpected = got.filter((key) => !sent.includes(key))
  if (missing.length > 0 || unexpected.length > 0)
    found.push(
      `attachments: sent ${missing.join(', ') || 'nothing else'}; read ${unexpected.join(', ') || 'nothing else'}`,
    )
  // Where the reader shows the Content-Type name too (Python), it must be the file name as sent.
  if (read.attachments.some((attachment) => attachment.name !== undefined)) {
    same(
      'Content-Type names',
      expected.attachments.map((attachment) => attachment.filename).sort(),
      read.attachments.map((attachment) => attachment.name).sort(),
    )
  }
  for (const [name, value] of Object.entries(expected.headers))
    same(`header ${name}`, value?.trim() ?? '', read.headers[name]?.trim() ?? '')
  for (const defect of read.defects) {
    if (reader.toleratedDefects?.test(defect) !== true) found.push(`defect: ${defect}`)
  }
  return found
}

/**
 * Whether `read` is `name` as a phrase reader reads its encoded-words: each
 * run of spaces or tabs as one space, and a space where the composer had to
 * cut the name (at most one per cut, none for a name that fits one word).
 */
function cutName(sent: string, read: string): boolean {
  // The first word may share the line of `Reply-To:`, the longest field name before an address.
  const cuts = phraseWords(sent, 76 - 'Reply-To: '.length).length - 1
  const name = sent.replace(/[ \t]+/g, ' ')
  read = read.replace(/[ \t]+/g, ' ')
  let extra = 0
  let j = 0
  for (let i = 0; i < read.length; i++) {
    if (read[i] === name[j]) j++
    else if (read[i] === ' ' && ++extra <= cuts) continue
    else return false
  }
  return j === name.length
}

function asciiMailbox(value: ReadMailbox): ReadMailbox {
  return {
    name: value.name,
    address: value.address.includes('@') ? asciiAddress(value.address) : value.address,
  }
}

function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase()
}

function attachmentKeys(attachments: ReadAttachment[]): string[] {
  return attachments
    .map((attachment) =>
      JSON.stringify([
        attachment.filename,
        mediaType(attachment.contentType),
        attachment.contentId,
        `${attachment.content.length} bytes, ${checksum(attachment.content)}`,
      ]),
    )
    .sort()
}

/** A short checksum (FNV-1a) that tells two byte strings apart in a message. */
function checksum(bytes: Uint8Array): string {
  let hash = 0x811c9dc5
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  return hash.toString(16)
}
