/**
 * A message composed from uploads, by plan, is byte for byte the message
 * `composeMessage` writes when the same attachments come inline: the line
 * encoder fed in chunks of any size writes what the whole-buffer encoder
 * writes, and the plan's length, known before a byte is read, is the length
 * of what it writes. A reader (postal-mime) gets the uploads back.
 */
import fc from 'fast-check'
import PostalMime from 'postal-mime'
import { describe, expect, it } from 'vitest'
import { concatBytes } from '../../../src/domain/bytes.ts'
import { isServiceError } from '../../../src/domain/errors.ts'
import type { Attachment, Mail } from '../../../src/domain/mail/message.ts'
import { createBase64LineEncoder } from '../../../src/domain/mime/base64-line-stream.ts'
import { base64LinesLength, writeBase64Lines } from '../../../src/domain/mime/base64-lines.ts'
import { composeMessage } from '../../../src/domain/mime/compose.ts'
import { isUploadSegment, planChunks, planMessage } from '../../../src/domain/mime/message-plan.ts'
import { randomBytes } from '../../support/uploads.ts'
import { fixedContext, simpleMail } from './support.ts'

const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 200)

function bytesOf(length: number, seed = 11): Uint8Array {
  return randomBytes(length, seed)
}

/** `bytes` cut at `cuts` (positions, any order), as fresh chunks. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let at = 0
  for (const point of [...points, bytes.byteLength]) {
    chunks.push(bytes.slice(at, point))
    at = point
  }
  return chunks
}

function wholeLines(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(base64LinesLength(bytes.byteLength))
  writeBase64Lines(bytes, out, 0)
  return out
}

function streamedLines(chunks: Uint8Array[]): Uint8Array {
  const encoder = createBase64LineEncoder()
  return concatBytes([...chunks.map((chunk) => encoder.push(chunk)), encoder.end()])
}

describe('the base64 line encoder fed a chunk at a time', () => {
  it('writes what the whole-buffer encoder writes, however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3_000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer(),
        (length, cuts, seed) => {
          const bytes = bytesOf(length, seed)
          expect(Buffer.from(streamedLines(split(bytes, cuts))).toString('latin1')).toBe(
            Buffer.from(wholeLines(bytes)).toString('latin1'),
          )
        },
      ),
      { numRuns: NUM_RUNS },
    )
  })

  it('writes 76-character lines joined by CRLF across chunk edges, for a megabyte in odd chunks', () => {
    const bytes = bytesOf(1_048_576 + 5)
    const cuts = Array.from({ length: 200 }, (_, i) => i * 5_243 + (i % 7))
    const streamed = streamedLines(split(bytes, cuts))
    expect(Buffer.compare(streamed, wholeLines(bytes))).toBe(0)
    const lines = Buffer.from(streamed).toString('latin1').split('\r\n')
    expect(lines.slice(0, -1).every((line) => line.length === 76)).toBe(true)
    expect(Buffer.from(lines.join(''), 'base64').equals(Buffer.from(bytes))).toBe(true)
  })
})

/** An attachment whose bytes are an upload's, and the same one inline. */
function twoWays(uploadId: string, bytes: Uint8Array, fields: Partial<Attachment> = {}) {
  const base = { filename: `${uploadId}.bin`, contentType: 'application/octet-stream', ...fields }
  return {
    upload: { ...base, content: new Uint8Array(0), upload: { uploadId } } as Attachment,
    inline: { ...base, content: bytes } as Attachment,
  }
}

async function composeByPlan(mail: Mail, uploads: Map<string, Uint8Array>, cuts: number[] = [7, 3_000]) {
  const sizes = new Map([...uploads].map(([id, bytes]) => [id, bytes.byteLength]))
  const plan = planMessage(mail, fixedContext(), sizes)
  const read = async function* (uploadId: string) {
    yield* split(uploads.get(uploadId)!, cuts)
  }
  const chunks: Uint8Array[] = []
  for await (const chunk of planChunks(plan, read)) chunks.push(chunk)
  return { plan, bytes: concatBytes(chunks) }
}

describe('a message planned with uploads', () => {
  const report = bytesOf(200_000, 3)
  const photo = bytesOf(58, 4)
  const cases: Array<
    [string, (a: ReturnType<typeof twoWays>, b: ReturnType<typeof twoWays>) => Partial<Mail>[]]
  > = [
    ['one upload beside a text body', (a) => [{ attachments: [a.upload] }, { attachments: [a.inline] }]],
    [
      'text and HTML, an inline image from an upload, an attachment given inline and an upload',
      (a, b) => {
        const inline = twoWays('up_inline_image_000001', photo, {
          contentType: 'image/png',
          contentId: 'logo@x',
        })
        const given = { filename: 'notes.txt', contentType: 'text/plain', content: bytesOf(100, 5) }
        const common = { text: 'Hello', html: '<p>Hi <img src="cid:logo@x"></p>' }
        return [
          { ...common, attachments: [inline.upload, given, a.upload, b.upload] },
          { ...common, attachments: [inline.inline, given, a.inline, b.inline] },
        ]
      },
    ],
    [
      'one upload attached twice',
      (a) => [{ attachments: [a.upload, a.upload] }, { attachments: [a.inline, a.inline] }],
    ],
  ]
  for (const [name, build] of cases) {
    it(`composes the bytes composeMessage writes with the attachments inline: ${name}`, async () => {
      const a = twoWays('up_report_pdf_0000001', report)
      const b = twoWays('up_empty_file_0000001', new Uint8Array(0))
      const uploads = new Map([
        ['up_report_pdf_0000001', report],
        ['up_empty_file_0000001', new Uint8Array(0)],
        ['up_inline_image_000001', photo],
      ])
      const [byUpload, byContent] = build(a, b)
      const { plan, bytes } = await composeByPlan(simpleMail(byUpload), uploads)
      const expected = composeMessage(simpleMail(byContent), fixedContext())
      expect(Buffer.from(bytes).toString('latin1')).toBe(Buffer.from(expected).toString('latin1'))
      expect(plan.size).toBe(expected.byteLength)
    })
  }

  it('keeps the uploads out of the literal segments and gives each its encoded length', () => {
    const a = twoWays('up_report_pdf_0000001', report)
    const plan = planMessage(
      simpleMail({ attachments: [a.upload] }),
      fixedContext(),
      new Map([['up_report_pdf_0000001', 200_000]]),
    )
    expect(plan.segments.map((segment) => (isUploadSegment(segment) ? 'upload' : 'literal'))).toEqual([
      'literal',
      'upload',
      'literal',
    ])
    expect(plan.segments[1]).toEqual({
      uploadId: 'up_report_pdf_0000001',
      size: 200_000,
      encodedSize: base64LinesLength(200_000),
    })
    const literal = plan.segments.filter((segment) => !isUploadSegment(segment)) as Uint8Array[]
    expect(literal.reduce((sum, bytes) => sum + bytes.byteLength, 0)).toBeLessThan(2_000)
  })

  it('reads back, with postal-mime, the upload as the attachment it was', async () => {
    const a = twoWays('up_report_pdf_0000001', report, {
      filename: 'Quarterly report — Q3.pdf',
      contentType: 'application/pdf',
    })
    const { bytes } = await composeByPlan(
      simpleMail({ attachments: [a.upload] }),
      new Map([['up_report_pdf_0000001', report]]),
    )
    const parsed = await PostalMime.parse(bytes)
    expect(parsed.text?.trim()).toBe('Hi Bob')
    expect(parsed.attachments).toHaveLength(1)
    expect(parsed.attachments[0]!.filename).toBe('Quarterly report — Q3.pdf')
    expect(parsed.attachments[0]!.mimeType).toBe('application/pdf')
    expect(Buffer.from(parsed.attachments[0]!.content as ArrayBuffer).equals(Buffer.from(report))).toBe(true)
  })

  it('stops with STORAGE when an upload gives other than the size planned', async () => {
    const a = twoWays('up_report_pdf_0000001', report)
    const plan = planMessage(
      simpleMail({ attachments: [a.upload] }),
      fixedContext(),
      new Map([['up_report_pdf_0000001', 200_001]]),
    )
    const reading = (async () => {
      for await (const _ of planChunks(plan, async function* () {
        yield report
      }));
    })()
    await expect(reading).rejects.toMatchObject({ code: 'STORAGE' })
  })

  it('refuses to plan an upload whose size is unknown, and composeMessage refuses any upload', () => {
    const a = twoWays('up_report_pdf_0000001', report)
    const mail = simpleMail({ attachments: [a.upload] })
    const refusal = (work: () => unknown) => {
      try {
        work()
      } catch (error) {
        return isServiceError(error) ? error.code : 'other'
      }
      return 'none'
    }
    expect(refusal(() => planMessage(mail, fixedContext(), new Map()))).toBe('INTERNAL')
    expect(refusal(() => composeMessage(mail, fixedContext()))).toBe('INTERNAL')
  })
})
