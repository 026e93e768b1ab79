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
  const reader = body.getReader()
  const declared = declaredLength(request)
  // A declared length is read straight into its buffer: one copy of a 35 MiB upload, not two.
  const into = declared !== undefined && declared <= limit ? new Uint8Array(declared) : undefined
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (into !== undefined && total + value.byteLength <= into.byteLength) into.set(value, total)
    else if (into !== undefined && chunks.length === 0) chunks.push(into.subarray(0, total), value)
    else if (total + value.byteLength <= limit) chunks.push(value)
    total += value.byteLength
    if (total > DRAIN_CEILING) {
      await reader.cancel()
      break
    }
  }
  if (total > limit) return { ok: false, tooLarge: true }
  if (into !== undefined && chunks.length === 0)
    return { ok: true, bytes: total === into.byteLength ? into : into.subarray(0, total) }
  return { ok: true, bytes: concatBytes(chunks) }
}

/** Content-Length, when it is a plain number of bytes. */
function declaredLength(request: Request): number | undefined {
  const header = request.headers.get('content-length')
  return header !== null && /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : undefined
}

/** Reads and drops the body, for answers given before looking at it. */
export async function discardBody(request: Request): Promise<void> {
  await readBody(request, 0).catch(() => undefined)
}
