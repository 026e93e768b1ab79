/**
 * The composed message as a list of chunks, concatenated once at the end
 * into a single buffer of the exact size.
 */
import { ServiceError } from '../errors.ts'
import { base64LinesLength, writeBase64Lines } from './base64-lines.ts'

/**
 * Bytes still to be written as base64 lines, encoded straight into the final
 * buffer; or, with `upload`, an upload's bytes, which only a composition plan
 * (`message-plan.ts`) can write, since they are read as the message is stored.
 */
export interface Base64Chunk {
  base64: Uint8Array
  upload?: { uploadId: string }
}

/** ASCII text, raw bytes, or bytes to write as base64 lines. */
export type Chunk = string | Uint8Array | Base64Chunk

const ascii = new TextEncoder()

/** Collects chunks, merging adjacent strings so that the final copy makes few calls. */
export interface ChunkList {
  chunks: Chunk[]
  pending: string
}

export function createChunkList(): ChunkList {
  return { chunks: [], pending: '' }
}

export function pushText(list: ChunkList, text: string): void {
  list.pending += text
}

export function pushChunk(list: ChunkList, chunk: Chunk): void {
  if (typeof chunk === 'string') {
    list.pending += chunk
    return
  }
  if (list.pending !== '') list.chunks.push(list.pending)
  list.pending = ''
  list.chunks.push(chunk)
}

/** Concatenates the chunks into one buffer. Strings must be ASCII: every header is encoded before it gets here. */
export function assemble(list: ChunkList): Uint8Array {
  const chunks = list.pending === '' ? list.chunks : [...list.chunks, list.pending]
  let length = 0
  for (const chunk of chunks) length += chunkLength(chunk)
  const out = uninitializedBytes(length)
  let offset = 0
  for (const chunk of chunks) {
    if (typeof chunk === 'string') {
      const { written } = ascii.encodeInto(chunk, out.subarray(offset))
      if (written !== chunk.length) throw new ServiceError('INTERNAL', 'A composed header was not ASCII')
      offset += written
    } else if (chunk instanceof Uint8Array) {
      out.set(chunk, offset)
      offset += chunk.length
    } else if (chunk.upload !== undefined) {
      throw new ServiceError('INTERNAL', 'A message with an upload part cannot be composed in memory')
    } else offset = writeBase64Lines(chunk.base64, out, offset)
  }
  if (offset !== length) throw new ServiceError('INTERNAL', 'The composed message has an unexpected length')
  return out
}

interface UnsafeAllocator {
  allocUnsafe(size: number): Uint8Array
}
const NodeBuffer = (globalThis as unknown as { Buffer?: UnsafeAllocator }).Buffer

/**
 * Bytes that every write below overwrites, so zero-filling them first is
 * wasted (a millisecond per 10 MB): Buffer.allocUnsafe where the runtime has
 * it (Node, Deno's node compatibility), else a zeroed array. A plain
 * Uint8Array view is returned, so callers see no Buffer.
 */
function uninitializedBytes(length: number): Uint8Array {
  if (NodeBuffer === undefined || length < 4096) return new Uint8Array(length)
  const buffer = NodeBuffer.allocUnsafe(length)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length)
}

function chunkLength(chunk: Chunk): number {
  if (typeof chunk === 'string') return chunk.length
  if (chunk instanceof Uint8Array) return chunk.length
  return base64LinesLength(chunk.base64.length)
}
