/**
 * tRPC-shaped error answers given before the router runs (batch cap, API
 * key, its scope, rate limit, body cap), so that a request refused at the edge is never
 * read whole, yet clients still get the shape the router itself would give:
 * `{ error: { message, code, data: { code, httpStatus, path? } } }`. A
 * caller that passed the key check and the batch cap gets an array of those
 * for a batched call (one per procedure, at most `MAX_BATCH_SIZE`); anyone
 * else gets one short error, however many paths the URL names (tRPC's
 * client hands it to every call of the batch).
 */
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { MAX_BATCH_SIZE } from './limits.ts'

export interface EdgeError {
  code:
    | 'BAD_REQUEST'
    | 'UNAUTHORIZED'
    | 'FORBIDDEN'
    | 'TOO_MANY_REQUESTS'
    | 'PAYLOAD_TOO_LARGE'
    | 'SERVICE_UNAVAILABLE'
  httpStatus: ContentfulStatusCode
  message: string
  retryAfterMs?: number
  /** One answer per procedure of a batch (only for an admitted caller). */
  perCall?: boolean
  /** The message of one procedure's answer, when they differ (a scope refuses each for its own reason). */
  messageFor?: (path: string) => string
}

/** How many procedure calls the URL names: the paths of a `?batch=1` call, else one. */
export function procedureCallCount(url: URL): { batched: boolean; calls: number } {
  const batched = url.searchParams.get('batch') === '1'
  if (!batched) return { batched, calls: 1 }
  const rest = url.pathname.replace(/^.*?\/trpc\/?/, '')
  return { batched, calls: (rest.match(/,|%2c/gi)?.length ?? 0) + 1 }
}

/** The procedure paths of `/trpc/a.b,c.d`; throws on a malformed percent-escape. */
export function procedurePaths(pathname: string): string[] {
  const rest = pathname.replace(/^.*?\/trpc\/?/, '')
  return rest === '' ? [] : decodeURIComponent(rest).split(',')
}

export function trpcEdgeError(c: Context, error: EdgeError): Response {
  const data: Record<string, unknown> = { code: error.code, httpStatus: error.httpStatus }
  if (error.retryAfterMs !== undefined) data['retryAfterMs'] = error.retryAfterMs
  const item = (path?: string) => ({
    error: {
      message: path !== undefined && error.messageFor ? error.messageFor(path) : error.message,
      code: TRPC_ERROR_CODES_BY_KEY[error.code],
      data: path === undefined ? data : { ...data, path },
    },
  })
  if (error.retryAfterMs !== undefined) {
    c.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))))
  }
  const url = new URL(c.req.url)
  const { batched, calls } = procedureCallCount(url)
  let paths: string[] = []
  if (calls <= MAX_BATCH_SIZE) {
    try {
      paths = procedurePaths(url.pathname)
    } catch {
      // A malformed percent-escape: answer without paths.
    }
  }
  const path = paths.length === 1 && paths[0]!.length <= 128 ? paths[0] : undefined
  const body =
    batched && error.perCall === true && paths.length > 0 ? paths.map((each) => item(each)) : item(path)
  return c.json(body, error.httpStatus)
}
