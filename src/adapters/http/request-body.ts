/**
 * Reads a request body into one buffer under a size cap: a Content-Length
 * over the cap is refused unread, and a body without one is refused as soon
 * as it passes the cap (the rest is left unread). The buffer is allocated
 * once at the declared length (else grown by doubling), so a 35 MiB message
 * costs its own size and the chunks it arrives in, not their concatenation
 * besides. On Node it reads `@hono/node-server`'s `IncomingMessage` itself:
 * the web stream over it copies every chunk first.
 */
import type { Context } from 'hono'

export const TOO_LARGE = Symbol('too large')

/** What a body of unknown length starts from. */
const FIRST_BUFFER_BYTES = 64 * 1024

/** The parts of node:http's IncomingMessage read here (no `node:` import: Deno has none of it). */
interface NodeIncoming {
  readableDidRead: boolean
  readableEnded: boolean
  destroyed: boolean
  on(event: string, listener: (...args: never[]) => void): unknown
  off(event: string, listener: (...args: never[]) => void): unknown
  pause(): unknown
}

/**
 * Whether the request has a body to read. On Node by its headers alone:
 * touching `body` there would start the web stream this module avoids.
 */
export function hasBody(c: Context): boolean {
  const request = c.req.raw
  if (request.method === 'GET' || request.method === 'HEAD') return false
  if (nodeIncoming(c) === undefined) return request.body !== null
  const length = request.headers.get('content-length')
  return request.headers.has('transfer-encoding') || (length !== null && length.trim() !== '0')
}

/** The body in one buffer, or `TOO_LARGE` once past `maxBytes`. */
export async function readRequestBody(
  c: Context,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | typeof TOO_LARGE> {
  const request = c.req.raw
  const declared = request.headers.has('transfer-encoding')
    ? undefined
    : Number.parseInt(request.headers.get('content-length') ?? '', 10)
  const known = declared !== undefined && Number.isSafeInteger(declared) && declared >= 0
  if (known && declared > maxBytes) return TOO_LARGE
  const sink = new Sink(known ? declared : Math.min(maxBytes, FIRST_BUFFER_BYTES), maxBytes)
  const incoming = nodeIncoming(c)
  if (incoming !== undefined) return readIncoming(incoming, sink)
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return sink.bytes()
    // The rest is left unread, as Hono's bodyLimit leaves it; the server drains or closes it.
    if (!sink.add(value)) return TOO_LARGE
  }
}

/** `@hono/node-server`'s request, while nothing has read from it yet. */
function nodeIncoming(c: Context): NodeIncoming | undefined {
  const incoming = (c.env as { incoming?: Partial<NodeIncoming> } | undefined)?.incoming
  if (typeof incoming?.on !== 'function' || typeof incoming.pause !== 'function') return undefined
  if (incoming.readableDidRead !== false || incoming.readableEnded !== false || incoming.destroyed !== false)
    return undefined
  return incoming as NodeIncoming
}

function readIncoming(
  incoming: NodeIncoming,
  sink: Sink,
): Promise<Uint8Array<ArrayBuffer> | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Uint8Array) => {
      if (sink.add(chunk)) return
      stop()
      incoming.pause()
      resolve(TOO_LARGE)
    }
    const onEnd = () => {
      stop()
      resolve(sink.bytes())
    }
    const onError = (error: unknown) => {
      stop()
      reject(error)
    }
    const onClose = () => {
      if (incoming.readableEnded) return onEnd()
      stop()
      reject(new Error('The client closed the connection before the end of the request body'))
    }
    const stop = () => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
      incoming.off('close', onClose)
    }
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('error', onError)
    incoming.on('close', onClose)
  })
}

/** One buffer that chunks are copied into, grown only when a body outruns its declared length. */
class Sink {
  #buffer: Uint8Array<ArrayBuffer>
  #size = 0
  readonly #maxBytes: number

  constructor(initialBytes: number, maxBytes: number) {
    this.#buffer = new Uint8Array(initialBytes)
    this.#maxBytes = maxBytes
  }

  /** Copies `chunk` in; false once the body passes the cap. */
  add(chunk: Uint8Array): boolean {
    const end = this.#size + chunk.byteLength
    if (end > this.#maxBytes) return false
    if (end > this.#buffer.byteLength) {
      const grown = new Uint8Array(Math.min(this.#maxBytes, Math.max(end, this.#buffer.byteLength * 2)))
      grown.set(this.#buffer.subarray(0, this.#size))
      this.#buffer = grown
    }
    this.#buffer.set(chunk, this.#size)
    this.#size = end
    return true
  }

  bytes(): Uint8Array<ArrayBuffer> {
    return this.#size === this.#buffer.byteLength ? this.#buffer : this.#buffer.subarray(0, this.#size)
  }
}
