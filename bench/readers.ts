/**
 * What readers decode (a correctness comparison, not a timing): the reader
 * tests' corpus (test/support/mail-corpus.ts, a fixed seed: the named cases
 * of issue 10 and 300 generated messages) composed by this project and by
 * nodemailer's MailComposer, each message judged by the same three readers
 * (postal-mime, mailparser, Python's `email` with policy.default where
 * python3 is on PATH) against what was sent (test/support/mail-judge.ts).
 * Prints "N of M messages decode exactly: this project / MailComposer" per
 * reader and overall. Fails (as a correctness check) when this project's
 * messages are not all read exactly.
 * Run alone: `node_modules/.bin/node bench/readers.ts`.
 */
import { fileURLToPath } from 'node:url'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import type { MailInput } from '../src/domain/mail/input.ts'
import type { Mail } from '../src/domain/mail/message.ts'
import { composeMessage } from '../src/domain/mime/compose.ts'
import { acceptedMail, sampleCorpus } from '../test/support/mail-corpus.ts'
import { differences, expectedReading, headerNames } from '../test/support/mail-judge.ts'
import { type MailReader, openReaders } from '../test/support/mail-readers.ts'
import { type BenchResult, printResults } from './lib.ts'

const SEED = 20_261_010
const GENERATED = 300
const DATE = new Date('2025-07-01T09:05:00Z')
const MESSAGE_ID = '<readers.1@example.com>'

export async function benchReaders(_options: { quick: boolean }): Promise<BenchResult[]> {
  const mails = sampleCorpus(GENERATED, SEED).flatMap((input) => {
    const mail = acceptedMail(input)
    return mail === undefined ? [] : [{ input, mail }]
  })
  const judges = await openReaders()
  try {
    const ours = await judge(judges.readers, mails, async ({ mail }) => composeMessage(mail, context()))
    const theirs = await judge(judges.readers, mails, ({ input, mail }) => composeWithNodemailer(input, mail))
    const total = mails.length
    const lines = [
      `corpus: ${total} messages (seed ${SEED}), readers: ${judges.readers.map((reader) => reader.name).join(', ')}`,
      ...judges.skipped,
      ...judges.readers.map(
        (reader) =>
          `${`${reader.name}:`.padEnd(14)} ${ours.exact.get(reader.name)} of ${total} / ${theirs.exact.get(reader.name)} of ${total}`,
      ),
      `${'every reader:'.padEnd(14)} ${ours.all} of ${total} / ${theirs.all} of ${total}`,
      ...examples('this project', ours.examples),
      ...examples('MailComposer', theirs.examples),
    ]
    return [
      {
        name: `readers: N of M messages decode exactly in every reader: this project ${ours.all} of ${total} / MailComposer ${theirs.all} of ${total} (figure: this project's share)`,
        ratio: ours.all / total,
        target: '= 1 (every message)',
        met: ours.all === total,
        correct: ours.all === total,
        lines,
      },
    ]
  } finally {
    await judges.close()
  }
}

interface Verdicts {
  /** Messages each reader read exactly, by reader name. */
  exact: Map<string, number>
  /** Messages every reader read exactly. */
  all: number
  /** The first misreadings, one line each. */
  examples: string[]
}

async function judge(
  readers: MailReader[],
  mails: Array<{ input: MailInput; mail: Mail }>,
  compose: (entry: { input: MailInput; mail: Mail }) => Promise<Uint8Array>,
): Promise<Verdicts> {
  const verdicts: Verdicts = {
    exact: new Map(readers.map((reader) => [reader.name, 0])),
    all: 0,
    examples: [],
  }
  for (const entry of mails) {
    const raw = await compose(entry)
    const expected = expectedReading(entry.mail)
    const readings = await Promise.all(
      readers.map((reader) => reader.read(raw, headerNames(entry.mail)).catch((error: Error) => error)),
    )
    let everyReader = true
    readers.forEach((reader, index) => {
      const reading = readings[index]!
      const found =
        reading instanceof Error
          ? [`could not read: ${reading.message}`]
          : differences(expected, reading, reader)
      if (found.length === 0) verdicts.exact.set(reader.name, verdicts.exact.get(reader.name)! + 1)
      else {
        everyReader = false
        if (verdicts.examples.length < 6) verdicts.examples.push(`${reader.name}: ${found[0]!.slice(0, 160)}`)
      }
    })
    if (everyReader) verdicts.all++
  }
  return verdicts
}

function examples(who: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : [`first misreadings, ${who}:`, ...lines.map((line) => `  ${line}`)]
}

function context() {
  let count = 0
  return { date: DATE, messageId: MESSAGE_ID, boundary: () => `----=_Part_${++count}_readers` }
}

/** The same message through MailComposer: the caller's input, with what toMail settled (From, content types). */
async function composeWithNodemailer(input: MailInput, mail: Mail): Promise<Uint8Array> {
  const node = new MailComposer({
    from: input.from ?? mail.from.address,
    to: input.to,
    cc: input.cc,
    bcc: input.bcc,
    replyTo: input.replyTo,
    subject: input.subject,
    text: input.text,
    html: input.html,
    attachments: mail.attachments.map((attachment) => ({
      filename: attachment.filename,
      content: Buffer.from(attachment.content),
      contentType: attachment.contentType,
      ...(attachment.contentId === undefined ? {} : { cid: attachment.contentId }),
    })),
    headers: input.headers,
    messageId: MESSAGE_ID,
    date: DATE,
  }).compile()
  node.keepBcc = true
  return node.build()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printResults(await benchReaders({ quick: true }))
}
