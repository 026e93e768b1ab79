/**
 * Long streams (an upload coming in, a message composed from uploads, a
 * large body going to Gmail) pass tens of MiB through short-lived chunks.
 * The runtimes reclaim a chunk's memory only at a garbage collection, and
 * V8 starts one for such memory only once about 64 MiB of it has piled
 * up: without help a 35 MiB message would leave up to that much behind it
 * in each stage. A pacer hears how many bytes passed and lets the runtime
 * reclaim them as it goes (`main/stream-pacer.ts`: a young-generation
 * collection every few MiB, a millisecond or so each).
 */
import type { MessageUploads } from './compose-uploads.ts'
export interface StreamPacer {
  /** `bytes` more went through a stream (and are no longer needed). */
  passed(bytes: number): void
}

/** The chunks of `source`, each reported to `pacer` once the next is asked for. */
export async function* paced(
  source: AsyncIterable<Uint8Array>,
  pacer: StreamPacer | undefined,
): AsyncGenerator<Uint8Array> {
  if (pacer === undefined) return yield* source
  for await (const chunk of source) {
    yield chunk
    pacer.passed(chunk.byteLength)
  }
}

/** `uploads` with every stream into or out of its two stores reported to `pacer`. */
export function pacedUploads(uploads: MessageUploads, pacer: StreamPacer): MessageUploads {
  const { store, bodies } = uploads
  return {
    store: {
      claim: (request) => store.claim(request),
      release: (request) => store.release(request),
      remove: (ids) => store.remove(ids),
      expire: () => store.expire(),
      put: (request) => store.put({ ...request, chunks: paced(request.chunks, pacer) }),
      read: (uploadId) => paced(store.read(uploadId), pacer),
    },
    bodies: {
      write: (id, chunks) => bodies.write(id, paced(chunks, pacer)),
      remove: (ids) => bodies.remove(ids),
      list: () => bodies.list(),
      async open(id, expected) {
        const stream = await bodies.open(id, expected)
        return stream === undefined
          ? undefined
          : { size: stream.size, open: () => paced(stream.open(), pacer) }
      },
    },
  }
}
