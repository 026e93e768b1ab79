/**
 * A small MIME reader for the sandbox mailbox's message view: the header
 * fields (RFC 5322 §2.2, unfolded), the text and HTML bodies and the
 * attachments of a multipart tree (RFC 2046 §5.1). For display only, so it
 * is lenient and bounded; it never throws on a malformed message.
 */
import {
  binaryToBytes,
  bytesToBinary,
  decodeCharset,
  decodeEncodedWords,
  decodeTransfer,
  parseParameters,
} from './mime-decode.ts'

export interface DisplayAttachment {
  filename: string
  contentType: string
  /** Without angle brackets. */
  contentId?: string
  inline: boolean
  bytes: Uint8Array
}

export interface DisplayMessage {
  /** Names as written, values unfolded and RFC 2047-decoded, in order. */
  headers: Array<[name: string, value: string]>
  text?: string
  html?: string
  attachments: DisplayAttachment[]
}

const MAX_DEPTH = 12
const MAX_PARTS = 500

interface Entity {
  headers: Array<[string, string]>
  body: string
}

function splitEntity(binary: string): Entity {
  const match = /\r?\n\r?\n/.exec(binary)
  const headEnd = match ? match.index : binary.length
  const bodyStart = match ? match.index + match[0].length : binary.length
  // RFC 6532: header fields may carry UTF-8.
  const head = new TextDecoder().decode(binaryToBytes(binary.slice(0, headEnd)))
  const headers: Array<[string, string]> = []
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
  }
  return { headers, body: binary.slice(bodyStart) }
}

function field(entity: Entity, name: string): string | undefined {
  return entity.headers.find(([key]) => key.toLowerCase() === name)?.[1]
}

function multipartBodies(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`
  const parts: string[] = []
  const lines = body.split(/\r?\n/)
  let current: string[] | undefined
  for (const line of lines) {
    const trimmed = line.trimEnd()
    if (trimmed === `${delimiter}--`) {
      if (current) parts.push(current.join('\r\n'))
      return parts
    }
    if (trimmed === delimiter) {
      if (current) parts.push(current.join('\r\n'))
      current = []
      continue
    }
    current?.push(line)
  }
  if (current) parts.push(current.join('\r\n'))
  return parts
}

/** Reads a raw RFC 5322 message for display. */
export function parseForDisplay(raw: Uint8Array): DisplayMessage {
  const root = splitEntity(bytesToBinary(raw))
  const message: DisplayMessage = {
    headers: root.headers.map(([name, value]) => [name, decodeEncodedWords(value)]),
    attachments: [],
  }
  let parts = 0
  const visit = (entity: Entity, depth: number): void => {
    if (++parts > MAX_PARTS) return
    const type = parseParameters(field(entity, 'content-type') ?? 'text/plain; charset=us-ascii')
    const disposition = parseParameters(field(entity, 'content-disposition') ?? '')
    const boundary = type.params['boundary']
    if (type.value.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
      for (const body of multipartBodies(entity.body, boundary)) visit(splitEntity(body), depth + 1)
      return
    }
    const bytes = decodeTransfer(entity.body, field(entity, 'content-transfer-encoding'))
    const filename = disposition.params['filename'] ?? type.params['name']
    const isText = type.value === 'text/plain' || type.value === 'text/html' || type.value === ''
    if (isText && disposition.value !== 'attachment' && filename === undefined) {
      const text = decodeCharset(bytes, type.params['charset']).replace(/\r\n/g, '\n')
      if (type.value === 'text/html') message.html ??= text
      else message.text ??= text
      return
    }
    const attachment: DisplayAttachment = {
      filename: filename ?? `part-${parts}`,
      contentType: type.value || 'application/octet-stream',
      inline: disposition.value === 'inline',
      bytes,
    }
    const contentId = field(entity, 'content-id')?.replace(/^<|>$/g, '')
    if (contentId) attachment.contentId = contentId
    message.attachments.push(attachment)
  }
  visit(root, 0)
  return message
}

/**
 * The HTML with `cid:` references (RFC 2392) to inline parts turned into
 * `data:` URLs, so that the sandboxed frame shows them without fetching.
 */
export function inlineContentIds(html: string, attachments: DisplayAttachment[]): string {
  const byId = new Map(
    attachments.flatMap((attachment) =>
      attachment.contentId === undefined ? [] : [[attachment.contentId.toLowerCase(), attachment] as const],
    ),
  )
  if (byId.size === 0) return html
  return html.replace(/cid:([^"'\s)>]+)/gi, (whole, id: string) => {
    const attachment = byId.get(safeDecodeUri(id).toLowerCase())
    if (!attachment || !/^image\/[a-z0-9.+-]+$/.test(attachment.contentType)) return whole
    return `data:${attachment.contentType};base64,${btoa(bytesToBinary(attachment.bytes))}`
  })
}

function safeDecodeUri(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
