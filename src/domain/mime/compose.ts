/**
 * `composeMessage`: a validated `Mail` to the bytes of an RFC 5322 / MIME
 * (RFC 2045-2047, 2231, 2387) message, ready for Gmail's send or upload.
 * Written by hand for speed: headers and small bodies are strings, large
 * bodies stay bytes, and everything is copied once into the result.
 */
import { ServiceError } from '../errors.ts'
import type { Attachment, CompositionContext, Mail } from '../mail/message.ts'
import { addressField } from './address-header.ts'
import { assemble, type Chunk, type ChunkList, createChunkList, pushChunk, pushText } from './assemble.ts'
import { formatMailDate } from './date.ts'
import { appendUnstructured, endField, foldedField, startField } from './header-fold.ts'
import { contentTypeNameParameter, filenameParameters } from './rfc2231.ts'
import { encodeTextBody } from './text-body.ts'

interface SinglePart {
  /** Its Content-* header lines, each ending in CRLF. */
  headers: string
  body: Chunk
}

interface Multipart {
  subtype: 'mixed' | 'related' | 'alternative'
  parts: Entity[]
}

type Entity = SinglePart | Multipart

/** RFC 2046 §5.1.1 bchars, without the space (it may not end a boundary, and nothing needs it). */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/
const MESSAGE_ID = /^<[\x21-\x3b\x3d\x3f-\x7e]+>$/

/**
 * Composes `mail` into message bytes: From, To, Cc, Bcc (kept, since Gmail
 * delivers to it and strips it), Reply-To, Subject, Date, Message-ID,
 * In-Reply-To, References, MIME-Version, the extra headers, then the body as
 * `multipart/mixed` (attachments) > `multipart/related` (inline parts with a
 * Content-ID, when there is HTML) > `multipart/alternative` (text and HTML),
 * each level only when needed. CRLF line ends, no line over 998 octets.
 */
export function composeMessage(mail: Mail, context: CompositionContext): Uint8Array {
  return assemble(composeChunks(mail, context))
}

/**
 * The message as its list of chunks, before they are copied into one buffer:
 * what `composeMessage` assembles, and what `message-plan.ts` writes as a
 * stream when attachments are uploads.
 */
export function composeChunks(mail: Mail, context: CompositionContext): ChunkList {
  if (!MESSAGE_ID.test(context.messageId)) {
    throw new ServiceError('INTERNAL', 'The message ID for composition is not of the form <id@host>')
  }
  const list = createChunkList()
  pushText(list, messageHeaders(mail, context))
  writeEntity(list, messageTree(mail), context)
  return list
}

function messageHeaders(mail: Mail, context: CompositionContext): string {
  let headers = addressField('From', [mail.from])
  if (mail.to.length > 0) headers += addressField('To', mail.to)
  if (mail.cc.length > 0) headers += addressField('Cc', mail.cc)
  if (mail.bcc.length > 0) headers += addressField('Bcc', mail.bcc)
  if (mail.replyTo.length > 0) headers += addressField('Reply-To', mail.replyTo)
  headers += unstructuredField('Subject', mail.subject, true)
  headers += `Date: ${formatMailDate(context.date)}\r\n`
  headers += `Message-ID: ${context.messageId}\r\n`
  if (mail.inReplyTo !== undefined) headers += `In-Reply-To: ${mail.inReplyTo}\r\n`
  if (mail.references.length > 0) headers += foldedField('References', mail.references)
  headers += 'MIME-Version: 1.0\r\n'
  for (const [name, value] of mail.headers) headers += unstructuredField(name, value)
  return headers
}

function unstructuredField(name: string, value: string, strict = false): string {
  const field = startField(name)
  appendUnstructured(field, value, strict)
  return endField(field)
}

function messageTree(mail: Mail): Entity {
  const hasHtml = mail.html !== undefined
  const inline = hasHtml ? mail.attachments.filter((attachment) => attachment.contentId !== undefined) : []
  const attached = hasHtml
    ? mail.attachments.filter((attachment) => attachment.contentId === undefined)
    : mail.attachments
  const bodies: Entity[] = []
  if (mail.text !== undefined || !hasHtml) bodies.push(textPart('plain', mail.text ?? ''))
  if (mail.html !== undefined) bodies.push(textPart('html', mail.html))
  let root: Entity = bodies.length === 1 ? bodies[0]! : { subtype: 'alternative', parts: bodies }
  if (inline.length > 0) {
    root = { subtype: 'related', parts: [root, ...inline.map((part) => attachmentPart(part, 'inline'))] }
  }
  if (attached.length > 0) {
    root = { subtype: 'mixed', parts: [root, ...attached.map((part) => attachmentPart(part, 'attachment'))] }
  }
  return root
}

function textPart(subtype: 'plain' | 'html', text: string): SinglePart {
  const { transferEncoding, body } = encodeTextBody(text)
  return {
    headers: `Content-Type: text/${subtype}; charset=utf-8\r\nContent-Transfer-Encoding: ${transferEncoding}\r\n`,
    body,
  }
}

function attachmentPart(attachment: Attachment, disposition: 'inline' | 'attachment'): SinglePart {
  const { contentType, filename } = attachment
  let headers =
    foldedField('Content-Type', joinParameters([[contentType], contentTypeNameParameter(filename)])) +
    'Content-Transfer-Encoding: base64\r\n' +
    foldedField(
      'Content-Disposition',
      joinParameters([[disposition], ...filenameParameters(filename).map((parameter) => [parameter])]),
    )
  if (attachment.contentId !== undefined) headers += `Content-ID: <${attachment.contentId}>\r\n`
  const body: Chunk =
    attachment.upload === undefined
      ? { base64: attachment.content }
      : { base64: attachment.content, upload: attachment.upload }
  return { headers, body }
}

/**
 * The tokens of a value and its parameters, each parameter given as its
 * fold tokens (a long `name` is several encoded-words): the `;` that
 * separates parameters ends each one but the last.
 */
function joinParameters(parameters: string[][]): string[] {
  return parameters.flatMap((tokens, index) =>
    index < parameters.length - 1 ? [...tokens.slice(0, -1), `${tokens[tokens.length - 1]};`] : tokens,
  )
}

function writeEntity(list: ChunkList, entity: Entity, context: CompositionContext): void {
  if ('body' in entity) {
    pushText(list, entity.headers + '\r\n')
    pushChunk(list, entity.body)
    return
  }
  const boundary = context.boundary()
  if (!BOUNDARY.test(boundary))
    throw new ServiceError('INTERNAL', 'The MIME boundary is not valid (RFC 2046)')
  pushText(
    list,
    foldedField('Content-Type', [`multipart/${entity.subtype};`, `boundary="${boundary}"`]) + '\r\n',
  )
  entity.parts.forEach((part, index) => {
    pushText(list, `${index === 0 ? '' : '\r\n'}--${boundary}\r\n`)
    writeEntity(list, part, context)
  })
  pushText(list, `\r\n--${boundary}--\r\n`)
}
