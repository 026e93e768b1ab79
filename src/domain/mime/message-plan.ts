/**
 * A message whose attachments may be uploads, as a plan of what to write:
 * literal bytes (headers, text and HTML parts, attachments given inline,
 * boundaries), and the uploads to be written as base64 lines while they
 * are read from storage. The plan is the chunk list of `composeMessage`
 * (the same headers, tree and boundaries), so the two write the same bytes;
 * each upload's encoded length follows from its size, so the message's
 * length is known, and checked against Gmail's limit, before anything is
 * read or written.
 */
import { ServiceError } from '../errors.ts'
import type { CompositionContext, Mail } from '../mail/message.ts'
import { assemble, type Chunk } from './assemble.ts'
import { createBase64LineEncoder } from './base64-line-stream.ts'
import { base64LinesLength } from './base64-lines.ts'
import { composeChunks } from './compose.ts'

/** An upload to write as base64 lines: `encodedSize` bytes in the message. */
export interface UploadSegment {
  uploadId: string
  /** The upload's own size in bytes. */
  size: number
  encodedSize: number
}

export type PlanSegment = Uint8Array | UploadSegment

export interface MessagePlan {
  /** In order; literal runs are merged, so literals and uploads alternate. */
  segments: PlanSegment[]
  /** The composed message's length in bytes. */
  size: number
}

/**
 * Plans `mail`, whose upload attachments have the sizes in `uploadSizes`
 * (by upload id). Throws INTERNAL when an upload's size is missing.
 */
export function planMessage(
  mail: Mail,
  context: CompositionContext,
  uploadSizes: ReadonlyMap<string, number>,
): MessagePlan {
  const list = composeChunks(mail, context)
  const chunks: Chunk[] = list.pending === '' ? list.chunks : [...list.chunks, list.pending]
  const segments: PlanSegment[] = []
  let size = 0
  let run: Chunk[] = []
  const flush = () => {
    if (run.length === 0) return
    const bytes = assemble({ chunks: run, pending: '' })
    segments.push(bytes)
    size += bytes.byteLength
    run = []
  }
  for (const chunk of chunks) {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array || chunk.upload === undefined) {
      run.push(chunk)
      continue
    }
    flush()
    const { uploadId } = chunk.upload
    const uploadSize = uploadSizes.get(uploadId)
    if (uploadSize === undefined)
      throw new ServiceError('INTERNAL', 'An upload of the message has no known size')
    const encodedSize = base64LinesLength(uploadSize)
    segments.push({ uploadId, size: uploadSize, encodedSize })
    size += encodedSize
  }
  flush()
  return { segments, size }
}

export function isUploadSegment(segment: PlanSegment): segment is UploadSegment {
  return !(segment instanceof Uint8Array)
}

/**
 * The bytes of `plan`, a chunk at a time: literals as they are, each upload
 * read through `read` and written as base64 lines while it is read. Throws
 * STORAGE when an upload gives other than the size the plan counted.
 */
export async function* planChunks(
  plan: MessagePlan,
  read: (uploadId: string) => AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  for (const segment of plan.segments) {
    if (!isUploadSegment(segment)) {
      yield segment
      continue
    }
    const encoder = createBase64LineEncoder()
    let size = 0
    for await (const chunk of read(segment.uploadId)) {
      size += chunk.byteLength
      if (size > segment.size) break
      const lines = encoder.push(chunk)
      if (lines.byteLength > 0) yield lines
    }
    if (size !== segment.size)
      throw new ServiceError('STORAGE', 'An uploaded attachment changed size while its message was composed')
    const last = encoder.end()
    if (last.byteLength > 0) yield last
  }
}
