/**
 * MIME composition benchmark: our `toMail` + `composeMessage` against
 * nodemailer's MailComposer on a typical message, and `composeMessage` with a
 * 10 MB attachment against bare base64 encoding of the same bytes.
 * Run alone: `node_modules/.bin/node bench/compose.ts [--full]`.
 */
import { fileURLToPath } from 'node:url'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import PostalMime, { type Email } from 'postal-mime'
import type { MailInput } from '../src/domain/mail/input.ts'
import type { CompositionContext, Mail } from '../src/domain/mail/message.ts'
import { toMail } from '../src/domain/mail/to-mail.ts'
import { base64LinesEncoder } from '../src/domain/mime/base64-lines.ts'
import { composeMessage } from '../src/domain/mime/compose.ts'
import { quotedPrintableEncoder } from '../src/domain/mime/quoted-printable.ts'
import { type BenchResult, formatStats, measureInterleaved, printResults, ratios, stats } from './lib.ts'

const TYPICAL_TARGET = 10
const ATTACHMENT_TARGET = 1.5
const ATTACHMENT_BYTES = 10 * 1024 * 1024

export async function benchCompose(options: { quick: boolean }): Promise<BenchResult[]> {
  const rounds = options.quick ? 3 : 5
  // The attachment first: its 10 MB buffers are cheapest to collect in a heap nodemailer has not grown.
  const attachment = await benchAttachment({ rounds, minTimeMs: options.quick ? 400 : 1500 })
  const typical = await benchTypical({ rounds, minTimeMs: options.quick ? 250 : 1000 })
  return [typical, attachment]
}

function context(): CompositionContext {
  let count = 0
  return {
    date: new Date('2025-07-01T09:05:00Z'),
    messageId: '<bench.1@example.com>',
    boundary: () => `----=_Part_${++count}_bench`,
  }
}

/** Text of about `bytes` bytes, French-flavoured so that some characters are not ASCII. */
function prose(bytes: number): string {
  const sentence =
    'Le comité a validé les résultats du trimestre; les équipes reçoivent leurs objectifs détaillés. '
  let text = ''
  let line = 0
  while (text.length < bytes) text += sentence + (++line % 3 === 0 ? '\n' : '')
  return text.slice(0, bytes)
}

function typicalInput(): MailInput {
  const paragraphs = prose(6 * 1024 - 600)
    .split('\n')
    .map((paragraph) => `<p style="margin:0 0 12px 0">${paragraph}</p>\n`)
  return {
    from: 'Équipe Ventes <ventes@example.com>',
    to: ['Ann Example <ann@example.com>', '"Doe, John" <john.doe@example.org>'],
    subject: 'Réunion trimestrielle — résultats et prochaines étapes ✓',
    text: prose(2 * 1024),
    html: `<!doctype html><html><body>\n${paragraphs.join('')}</body></html>`,
  }
}

async function composeWithNodemailer(input: MailInput): Promise<Uint8Array> {
  const node = new MailComposer({
    from: input.from,
    to: input.to,
    subject: input.subject,
    text: input.text,
    html: input.html,
    messageId: '<bench.1@example.com>',
    date: new Date('2025-07-01T09:05:00Z'),
  }).compile()
  node.keepBcc = true
  return node.build()
}

async function benchTypical(options: { rounds: number; minTimeMs: number }): Promise<BenchResult> {
  const input = typicalInput()
  const ours = (): Uint8Array => composeMessage(toMail(input), context())
  const correct = sameFields(
    await PostalMime.parse(ours()),
    await PostalMime.parse(await composeWithNodemailer(input)),
  )
  const [oursOps = [], theirsOps = []] = await measureInterleaved(
    [ours, () => composeWithNodemailer(input)],
    options,
  )
  const perRound = ratios(oursOps, theirsOps)
  const ratio = stats(perRound).median
  return {
    name: 'compose: typical message, toMail + composeMessage vs nodemailer MailComposer (throughput ratio)',
    ratio,
    target: `>= ${TYPICAL_TARGET}`,
    met: ratio >= TYPICAL_TARGET,
    correct,
    lines: [
      `ours:       ${formatStats(oursOps, 'ops/s')}`,
      `nodemailer: ${formatStats(theirsOps, 'ops/s')}`,
      `ratio per round: ${formatStats(perRound, '', 2)}`,
      `quoted-printable encoder: ${quotedPrintableEncoder()}`,
    ],
  }
}

async function benchAttachment(options: { rounds: number; minTimeMs: number }): Promise<BenchResult> {
  const bytes = new Uint8Array(ATTACHMENT_BYTES)
  let seed = 0x2545f491
  for (let i = 0; i < bytes.length; i++) {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    bytes[i] = seed & 255
  }
  const mail: Mail = {
    from: { address: 'ann@example.com' },
    to: [{ name: 'Bob', address: 'bob@example.com' }],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 'Quarterly archive',
    text: 'The archive is attached.',
    attachments: [{ filename: 'archive.zip', contentType: 'application/zip', content: bytes }],
    headers: [],
    references: [],
  }
  const correct = await attachmentRoundTrips(mail, bytes)
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  const [composeOps = [], baseOps = [], viewOps = [], bytesOps = []] = await measureInterleaved(
    [
      () => composeMessage(mail, context()),
      () => Buffer.from(bytes).toString('base64'),
      () => view.toString('base64'),
      () => Buffer.from(view.toString('base64'), 'latin1'),
    ],
    options,
  )
  // Ops per second of the baseline over ours: our time as a multiple of the baseline's.
  const perRound = ratios(baseOps, composeOps)
  const ratio = stats(perRound).median
  const ms = (ops: number[]): number[] => ops.map((value) => 1000 / value)
  return {
    name: 'compose: 10 MB attachment, composeMessage time / Buffer.from(bytes).toString("base64") time',
    ratio,
    target: `<= ${ATTACHMENT_TARGET}`,
    met: ratio <= ATTACHMENT_TARGET,
    correct,
    lines: [
      `composeMessage:                      ${formatStats(ms(composeOps), 'ms', 1)}`,
      `Buffer.from(bytes) base64:           ${formatStats(ms(baseOps), 'ms', 1)}`,
      `base64 of a Buffer view (no copy):   ${formatStats(ms(viewOps), 'ms', 1)}` +
        ` (ratio ${stats(ratios(viewOps, composeOps)).median.toFixed(2)})`,
      `base64 of a view, as bytes:          ${formatStats(ms(bytesOps), 'ms', 1)}` +
        ` (ratio ${stats(ratios(bytesOps, composeOps)).median.toFixed(2)})`,
      `line encoder: ${base64LinesEncoder()}`,
      `ratio per round: ${formatStats(perRound, '', 2)}`,
    ],
  }
}

/**
 * Whether the composed message parses back to the attachment, and bare
 * base64 decodes back to it. Apart, so that the parsed copies are garbage
 * before timing starts rather than a heap the collector must keep walking.
 */
async function attachmentRoundTrips(mail: Mail, bytes: Uint8Array): Promise<boolean> {
  const composed = await PostalMime.parse(composeMessage(mail, context()))
  const attachment = composed.attachments[0]
  return (
    attachment !== undefined &&
    equalBytes(new Uint8Array(attachment.content as ArrayBuffer), bytes) &&
    equalBytes(Buffer.from(Buffer.from(bytes).toString('base64'), 'base64'), bytes) &&
    composed.subject === mail.subject
  )
}

/** Whether two parsed messages carry the same addresses, subject, bodies and attachments. */
function sameFields(a: Email, b: Email): boolean {
  const addresses = (email: Email) =>
    JSON.stringify([email.from, email.to, email.cc ?? [], email.bcc ?? [], email.replyTo ?? []])
  const normalize = (text: string | undefined) => text?.replace(/\r\n/g, '\n').trimEnd()
  return (
    addresses(a) === addresses(b) &&
    a.subject === b.subject &&
    normalize(a.text) === normalize(b.text) &&
    normalize(a.html) === normalize(b.html) &&
    a.attachments.length === b.attachments.length
  )
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printResults(await benchCompose({ quick: !process.argv.includes('--full') }))
}
