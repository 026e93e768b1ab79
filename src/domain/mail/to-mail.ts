/**
 * From a caller's `MailInput` (shape already checked by zod) to the validated
 * `Mail` that `composeMessage` writes: the semantic checks that keep a
 * message well-formed and free of injected header lines.
 */
import { badRequest, type FieldIssue, isServiceError } from '../errors.ts'
import { checkBase64, decodeBase64 } from '../mime/base64.ts'
import { UPLOAD_ID } from '../uploads/upload.ts'
import { parseAddressList, parseMailbox } from './address.ts'
import { contentTypeForFilename, isCompositeType, normalizeContentType } from './content-type.ts'
import { isFieldName, isRoutingHeader, isStructuralHeader } from './header-names.ts'
import type { AttachmentInput, MailInput } from './input.ts'
import { type Attachment, MAX_RECIPIENTS, type Mail, type Mailbox } from './message.ts'

export interface ToMailOptions {
  /** The From of a message that names none: the default account. */
  defaultFrom?: Mailbox
}

const LINE_BREAK = /[\r\n]/
/** C0 controls other than tab and line breaks, and DEL: never meaningful in a header. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/
/** RFC 5322 §3.6.4 msg-id without its angle brackets, kept to printable ASCII. */
const MESSAGE_ID = /^[\x21-\x3b\x3d\x3f\x41-\x7e]+@[\x21-\x3b\x3d\x3f\x41-\x7e]+$/
/** Keeps `In-Reply-To: <id>` within the 998-octet line limit of RFC 5322 §2.1.1. */
const MAX_MESSAGE_ID = 900
const CONTENT_ID = /^[\x21-\x3b\x3d\x3f-\x7e]+$/
const VISIBLE_ASCII = /^[\x21-\x7e]+$/

/**
 * Validates `input` and builds the `Mail` to compose. Throws one
 * `BAD_REQUEST` ServiceError whose `issues` name every offending field by
 * path (`to.1`, `headers.X-Foo`, `attachments.0.content`).
 */
export function toMail(input: MailInput, options: ToMailOptions = {}): Mail {
  const issues: FieldIssue[] = []
  const report = (path: string, message: string): void => {
    issues.push({ path, message })
  }

  const from = fromMailbox(input.from, options.defaultFrom, report)
  const to = mailboxes('to', input.to, report)
  const cc = mailboxes('cc', input.cc, report)
  const bcc = mailboxes('bcc', input.bcc, report)
  const replyTo = mailboxes('replyTo', input.replyTo, report)
  const recipientIssues = issues.some((issue) => /^(to|cc|bcc)(\.|$)/.test(issue.path))
  const recipients = to.length + cc.length + bcc.length
  if (!recipientIssues && recipients === 0)
    report('to', 'A message needs at least one recipient in to, cc or bcc')
  if (recipients > MAX_RECIPIENTS) {
    report(
      'to',
      `A message can have at most ${MAX_RECIPIENTS} recipients in to, cc and bcc; it has ${recipients}`,
    )
  }

  checkHeaderText('subject', 'Subject', input.subject, report)
  const headers = extraHeaders(input.headers ?? {}, report)
  for (const [index, attachment] of (input.attachments ?? []).entries()) {
    checkAttachment(attachment, `attachments.${index}`, report)
  }
  if (input.threadId !== undefined) checkThreadId(input.threadId, report)
  const inReplyTo =
    input.inReplyTo === undefined
      ? undefined
      : messageIds(input.inReplyTo, 'inReplyTo', 'In-Reply-To', report)
  if (inReplyTo !== undefined && inReplyTo.length > 1)
    report('inReplyTo', 'In-Reply-To must be one message ID')
  const references = (input.references ?? []).flatMap((reference, index) =>
    messageIds(reference, `references.${index}`, 'A reference', report),
  )

  if (issues.length > 0 || from === undefined) throw refusal(issues)
  const mail: Mail = {
    from,
    to,
    cc,
    bcc,
    replyTo,
    subject: input.subject,
    attachments: (input.attachments ?? []).map(toAttachment),
    headers,
    references,
  }
  if (input.text !== undefined) mail.text = input.text
  if (input.html !== undefined) mail.html = input.html
  if (inReplyTo?.[0] !== undefined) mail.inReplyTo = inReplyTo[0]
  if (input.threadId !== undefined) mail.threadId = input.threadId
  return mail
}

type Report = (path: string, message: string) => void

function refusal(issues: FieldIssue[]): Error {
  const first = issues[0]
  if (issues.length === 1 && first !== undefined)
    return badRequest(`Invalid ${first.path}: ${first.message}`, issues)
  return badRequest(`Invalid fields: ${issues.map((issue) => issue.path).join(', ')}`, issues)
}

/** Runs a parser that throws a ServiceError, turning its message into an issue at `path`. */
function attempt<T>(path: string, report: Report, parse: () => T): T | undefined {
  try {
    return parse()
  } catch (error) {
    if (!isServiceError(error)) throw error
    report(path, error.message)
    return undefined
  }
}

function fromMailbox(from: string | undefined, defaultFrom: Mailbox | undefined, report: Report) {
  if (from !== undefined) return attempt('from', report, () => parseMailbox(from))
  if (defaultFrom === undefined) report('from', 'No from address was given and there is no default account')
  return defaultFrom
}

function mailboxes(field: string, value: string | string[] | undefined, report: Report): Mailbox[] {
  if (value === undefined) return []
  if (typeof value === 'string') return attempt(field, report, () => parseAddressList(value)) ?? []
  return value.flatMap(
    (item, index) => attempt(`${field}.${index}`, report, () => parseAddressList(item)) ?? [],
  )
}

function checkHeaderText(path: string, label: string, value: string, report: Report): boolean {
  if (LINE_BREAK.test(value)) report(path, `${label} must not contain a line break (CR or LF)`)
  else if (CONTROL.test(value)) report(path, `${label} must not contain control characters`)
  else return true
  return false
}

function extraHeaders(headers: Record<string, string>, report: Report): Array<[string, string]> {
  const seen = new Set<string>()
  const accepted: Array<[string, string]> = []
  for (const [name, value] of Object.entries(headers)) {
    const path = `headers.${name}`
    if (LINE_BREAK.test(name)) report(path, 'Header name must not contain a line break (CR or LF)')
    else if (!isFieldName(name)) {
      report(
        path,
        `Header name ${JSON.stringify(name)} is not a field name (printable ASCII, no spaces or colons)`,
      )
    } else if (isStructuralHeader(name))
      report(path, `Header ${name} is written by the service and cannot be set`)
    else if (isRoutingHeader(name))
      report(
        path,
        `Header ${name} routes delivery, bounces or receipts, which the envelope decides; it cannot be set`,
      )
    else if (seen.has(name.toLowerCase())) report(path, `Header ${name} is given twice (names ignore case)`)
    else if (checkHeaderText(path, `Header ${name}`, value, report)) accepted.push([name, value])
    seen.add(name.toLowerCase())
  }
  return accepted
}

function checkAttachment(attachment: AttachmentInput, path: string, report: Report): void {
  checkHeaderText(`${path}.filename`, 'Filename', attachment.filename, report)
  const base64 = attachment.content === undefined ? 'valid' : checkBase64(attachment.content)
  if (base64 === 'base64url') {
    report(`${path}.content`, 'Content must be standard base64 (with + and /), not base64url')
  } else if (base64 === 'invalid') report(`${path}.content`, 'Content is not valid base64')
  if (attachment.uploadId !== undefined && !UPLOAD_ID.test(attachment.uploadId))
    report(`${path}.uploadId`, 'Upload ID must be an uploadId that POST /uploads answered')
  const contentType =
    attachment.contentType === undefined ? undefined : normalizeContentType(attachment.contentType)
  if (attachment.contentType !== undefined && contentType === undefined) {
    report(
      `${path}.contentType`,
      `Content type ${JSON.stringify(attachment.contentType)} is not a media type`,
    )
  } else if (contentType !== undefined && isCompositeType(contentType)) {
    report(
      `${path}.contentType`,
      `Content type ${contentType.split(';')[0]} cannot be an attachment: multipart and message parts may not be base64-encoded (RFC 2045 §6.4); send the file as application/octet-stream`,
    )
  }
  if (attachment.contentId !== undefined) {
    const id = attachment.contentId
    if (checkHeaderText(`${path}.contentId`, 'Content ID', id, report) && !CONTENT_ID.test(unbracket(id))) {
      report(`${path}.contentId`, 'Content ID must be printable ASCII without spaces or angle brackets')
    }
  }
}

function toAttachment(input: AttachmentInput): Attachment {
  const contentType =
    input.contentType === undefined
      ? contentTypeForFilename(input.filename)
      : normalizeContentType(input.contentType)!
  const attachment: Attachment = {
    filename: input.filename,
    contentType,
    content: input.content === undefined ? new Uint8Array(0) : decodeBase64(input.content),
  }
  if (input.contentId !== undefined) attachment.contentId = unbracket(input.contentId)
  if (input.uploadId !== undefined) attachment.upload = { uploadId: input.uploadId }
  return attachment
}

function checkThreadId(threadId: string, report: Report): void {
  if (checkHeaderText('threadId', 'Thread ID', threadId, report) && !VISIBLE_ASCII.test(threadId)) {
    report('threadId', 'Thread ID must be printable ASCII without spaces')
  }
}

/** Message IDs in `value` (separated by whitespace), each put in angle brackets; undefined after a report. */
function messageIds(value: string, path: string, label: string, report: Report): string[] {
  if (!checkHeaderText(path, label, value, report)) return []
  const ids = value.trim().split(/\s+/).filter(Boolean)
  if (ids.length === 0 || ids.some((id) => !MESSAGE_ID.test(unbracket(id)) || id.length > MAX_MESSAGE_ID)) {
    report(path, `${label} must be a message ID like <id@example.com>`)
    return []
  }
  return ids.map((id) => `<${unbracket(id)}>`)
}

function unbracket(id: string): string {
  const trimmed = id.trim()
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1) : trimmed
}
