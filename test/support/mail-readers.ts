/**
 * Three independent mail readers, each turning message bytes into what a
 * person would see: postal-mime, nodemailer's mailparser, and Python's
 * `email` package with `policy.default` (through one long-lived
 * `python3 test/support/mail_reader.py`, skipped where python3 is missing).
 * Shared by the reader tests (test/domain/mime/readers.property.test.ts)
 * and the bench (bench/readers.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import libmime from 'libmime'
import { type HeaderValue, type StructuredHeader, simpleParser } from 'mailparser'
import PostalMime, { type Address, decodeWords } from 'postal-mime'

export interface ReadMailbox {
  name: string
  address: string
}

export interface ReadAttachment {
  filename: string | undefined
  /** The Content-Type `name` parameter, decoded, where the reader exposes it (Python). */
  name?: string | undefined
  contentType: string
  contentId: string | undefined
  content: Uint8Array
}

/** A message as one reader decoded it. */
export interface ReadMail {
  subject: string | undefined
  from: ReadMailbox[]
  to: ReadMailbox[]
  cc: ReadMailbox[]
  bcc: ReadMailbox[]
  replyTo: ReadMailbox[]
  text: string | undefined
  html: string | undefined
  attachments: ReadAttachment[]
  /** Extra headers asked for, by lower-case name, decoded. */
  headers: Record<string, string | undefined>
  /** What the reader flagged as malformed (Python only). */
  defects: string[]
}

export interface MailReader {
  name: string
  /**
   * The reader ends every non-empty body in a line break, so that a body
   * sent without one cannot be told from one sent with one (postal-mime, for
   * a message of one part).
   */
  endsBodiesInLineBreak?: boolean
  /** The reader reads a body part with no text as one line break (mailparser). */
  readsEmptyBodyAsLineBreak?: boolean
  /**
   * The reader decodes an encoded-word display name as a phrase of words
   * (Python's `email.headerregistry`): each run of spaces or tabs in it reads
   * as one space, and the space between two encoded-words is kept, which
   * RFC 2047 §6.2 says to drop (Python drops it in the Subject).
   */
  readsNameWordsAsPhrase?: boolean
  /**
   * How the reader turns a sent file name into the one it shows, where that
   * is not the identity: postal-mime decodes encoded-word look-alikes again
   * inside an RFC 2231 `filename*` it has already decoded; Python unquotes
   * and trims it.
   */
  filenameAsRead?: (filename: string) => string
  /** Defects the reader flags in what Gmail, Thunderbird and nodemailer write alike. */
  toleratedDefects?: RegExp
  read(raw: Uint8Array, headerNames: string[]): Promise<ReadMail>
}

export interface MailReaders {
  readers: MailReader[]
  /** One line for each reader that could not start here (python3 missing). */
  skipped: string[]
  close(): Promise<void>
}

/** Starts every reader this machine has. */
export async function openReaders(): Promise<MailReaders> {
  const readers: MailReader[] = [postalMimeReader, mailparserReader]
  const skipped: string[] = []
  const python = await startPythonReader()
  if (typeof python === 'string') skipped.push(python)
  else readers.push(python)
  return {
    readers,
    skipped,
    close: async () => {
      if (typeof python !== 'string') await python.close()
    },
  }
}

export const postalMimeReader: MailReader = {
  name: 'postal-mime',
  endsBodiesInLineBreak: true,
  filenameAsRead: (filename) => (filename.includes('=?') ? decodeWords(filename) : filename),
  async read(raw, headerNames) {
    const email = await PostalMime.parse(raw)
    // In a multipart message postal-mime keeps the line break before a boundary, which belongs to the boundary (RFC 2046 §5.1.1).
    const multipart = /^multipart\//i.test(
      email.headers.find((header) => header.key === 'content-type')?.value ?? '',
    )
    const body = (text: string | undefined) => (multipart && text?.endsWith('\n') ? text.slice(0, -1) : text)
    const headers: Record<string, string | undefined> = {}
    for (const name of headerNames) {
      const header = email.headers.find((candidate) => candidate.key === name.toLowerCase())
      // postal-mime leaves the headers it does not know raw: its own decodeWords is what a client calls.
      headers[name.toLowerCase()] = header === undefined ? undefined : decodeWords(header.value)
    }
    return {
      subject: email.subject,
      from: postalMailboxes(email.from),
      to: postalMailboxes(email.to),
      cc: postalMailboxes(email.cc),
      bcc: postalMailboxes(email.bcc),
      replyTo: postalMailboxes(email.replyTo),
      text: body(email.text) ?? (multipart ? undefined : ''),
      html: body(email.html),
      attachments: email.attachments.map((attachment) => ({
        filename: attachment.filename ?? undefined,
        contentType: attachment.mimeType,
        contentId: attachment.contentId,
        content: new Uint8Array(attachment.content as ArrayBuffer),
      })),
      headers,
      defects: [],
    }
  },
}

function postalMailboxes(addresses: Address[] | Address | undefined): ReadMailbox[] {
  const list = addresses === undefined ? [] : Array.isArray(addresses) ? addresses : [addresses]
  return list
    .flatMap((address) => (address.group === undefined ? [address] : address.group))
    .map(({ name, address }) => ({ name, address }))
}

export const mailparserReader: MailReader = {
  name: 'mailparser',
  readsEmptyBodyAsLineBreak: true,
  async read(raw, headerNames) {
    const parsed = await simpleParser(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
      keepCidLinks: true,
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
    })
    const headers: Record<string, string | undefined> = {}
    for (const name of headerNames)
      headers[name.toLowerCase()] = headerText(parsed.headers.get(name.toLowerCase()))
    return {
      subject: parsed.subject,
      from: mailparserMailboxes(parsed.from),
      to: mailparserMailboxes(parsed.to),
      cc: mailparserMailboxes(parsed.cc),
      bcc: mailparserMailboxes(parsed.bcc),
      replyTo: mailparserMailboxes(parsed.replyTo),
      text: parsed.text,
      html: parsed.html === false ? undefined : parsed.html,
      attachments: parsed.attachments.map((attachment) => ({
        filename: attachment.filename,
        // mailparser's contentType guesses from the name for application/octet-stream: the header says what was sent.
        contentType: (attachment.headers.get('content-type') as StructuredHeader | undefined)?.value ?? '',
        contentId: attachment.contentId,
        content: new Uint8Array(attachment.content),
      })),
      headers,
      defects: [],
    }
  },
}

type MailparserAddresses = { value: Array<{ name: string; address?: string; group?: unknown[] }> }

function mailparserMailboxes(
  addresses: MailparserAddresses | MailparserAddresses[] | undefined,
): ReadMailbox[] {
  const list = addresses === undefined ? [] : Array.isArray(addresses) ? addresses : [addresses]
  return list
    .flatMap((object) => object.value)
    .flatMap((entry) => (entry.group === undefined ? [entry] : (entry.group as (typeof entry)[])))
    .map(({ name, address }) => ({ name, address: address ?? '' }))
}

function headerText(value: HeaderValue | undefined): string | undefined {
  if (value === undefined) return undefined
  // mailparser leaves the headers it does not know raw: libmime (its own decoder) is what a client calls.
  if (typeof value === 'string') return libmime.decodeWords(value)
  if (Array.isArray(value)) return value.map((item) => headerText(item as HeaderValue)).join(', ')
  if (value instanceof Date) return value.toISOString()
  return JSON.stringify(value)
}

/**
 * The name Python's `Message.get_filename()` gives for `filename`: it
 * unquotes the decoded name once more (`email.utils.unquote`: `"x"` and
 * `<x>` read `x`), then strips whitespace at its ends.
 */
function pythonFilename(filename: string): string {
  let name = filename
  if (name.length > 1 && name.startsWith('"') && name.endsWith('"'))
    name = name.slice(1, -1).replace(/\\\\/g, '\\').replace(/\\"/g, '"')
  else if (name.length > 1 && name.startsWith('<') && name.endsWith('>')) name = name.slice(1, -1)
  return name.replace(/^[\s\x85]+|[\s\x85]+$/gu, '')
}

const PYTHON_SCRIPT = fileURLToPath(new URL('./mail_reader.py', import.meta.url))

type PythonReader = MailReader & { close(): Promise<void> }

/** Python's reader as a child process answering one JSON line per message; a sentence when python3 is missing. */
async function startPythonReader(): Promise<PythonReader | string> {
  let child: ChildProcess
  try {
    child = spawn('python3', ['-u', PYTHON_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] })
  } catch {
    return 'python3 is not on PATH: the Python email judge is skipped'
  }
  const started = await new Promise<string | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined))
    child.once('error', () => resolve('python3 is not on PATH: the Python email judge is skipped'))
  })
  if (started !== undefined) return started
  const waiting: Array<(line: string) => void> = []
  let buffered = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk
    let newline = buffered.indexOf('\n')
    while (newline !== -1) {
      waiting.shift()?.(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
    }
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    name: 'python email',
    readsNameWordsAsPhrase: true,
    filenameAsRead: pythonFilename,
    // `name="=?utf-8?Q?…?="`: the RFC 2047 name of Content-Type that Outlook reads, Python decodes and flags.
    toleratedDefects:
      /^part \d+ Content-Type: InvalidHeaderDefect: (encoded word inside quoted string|missing trailing whitespace after encoded-word)$/,
    async read(raw, headerNames) {
      const line = await new Promise<string>((resolve) => {
        waiting.push(resolve)
        child.stdin!.write(
          `${JSON.stringify({ raw: Buffer.from(raw).toString('base64'), headers: headerNames })}\n`,
        )
      })
      const answer = JSON.parse(line) as Omit<ReadMail, 'attachments'> & {
        error?: string
        attachments: Array<Omit<ReadAttachment, 'content'> & { content: string }>
      }
      if (answer.error !== undefined) throw new Error(`Python could not read the message: ${answer.error}`)
      const optional = <T>(value: T | null): T | undefined => value ?? undefined
      return {
        ...answer,
        subject: optional(answer.subject),
        text: optional(answer.text),
        html: optional(answer.html),
        headers: Object.fromEntries(
          Object.entries(answer.headers).map(([key, value]) => [key, optional(value)]),
        ),
        attachments: answer.attachments.map((attachment) => ({
          filename: optional(attachment.filename),
          name: optional(attachment.name),
          contentType: attachment.contentType,
          contentId: optional(attachment.contentId),
          content: new Uint8Array(Buffer.from(attachment.content, 'base64')),
        })),
      }
    },
    async close() {
      child.stdin!.end()
      await exited
    },
  }
}
