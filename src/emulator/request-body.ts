/**
 * Reading a request body with a size cap. Past the cap the rest is read
 * and dropped (up to a hard ceiling), so that the client gets the 413
 * instead of a connection closed while it is still writing.
 */
import { concatBytes } from '../domain/bytes.ts'

const DRAIN_CEILING = 256 * 1024 * 1024

export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true }

export async function readBody(request: Request, limit: number): Promise<BodyRead> {
  const body = request.body
  if (body === null) return { ok: true, bytes: new Uint8Array(0) }
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total <= limit) chunks.push(value)
    else if (total > DRAIN_CEILING) {
      await reader.cancel()
      break
    }
  }
  return total > limit ? { ok: false, tooLarge: true } : { ok: true, bytes: concatBytes(chunks) }
}

/** Reads and drops the body, for answers given before looking at it. */
export async function discardBody(request: Request): Promise<void> {
  await readBody(request, 0).catch(() => undefined)
}
