/**
 * tRPC-shaped error answers given before the router runs (API key, rate
 * limit, body cap), so that a request refused at the edge is never read
 * whole, yet clients still get the shape the router itself would give:
 * `{ error: { message, code, data: { code, httpStatus, path? } } }`, or an
 * array of those for a batched call (one per procedure).
 */
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export interface EdgeError {
  code: 'UNAUTHORIZED' | 'TOO_MANY_REQUESTS' | 'PAYLOAD_TOO_LARGE'
  httpStatus: ContentfulStatusCode
  message: string
  retryAfterMs?: number
}

/** The procedure paths of `/trpc/a.b,c.d`. */
function procedurePaths(pathname: string): string[] {
  const rest = pathname.replace(/^.*?\/trpc\/?/, '')
  return rest === '' ? [] : decodeURIComponent(rest).split(',')
}

export function trpcEdgeError(c: Context, error: EdgeError): Response {
  const data: Record<string, unknown> = { code: error.code, httpStatus: error.httpStatus }
  if (error.retryAfterMs !== undefined) data['retryAfterMs'] = error.retryAfterMs
  const item = (path?: string) => ({
    error: {
      message: error.message,
      code: TRPC_ERROR_CODES_BY_KEY[error.code],
      data: path === undefined ? data : { ...data, path },
    },
  })
  if (error.retryAfterMs !== undefined) {
    c.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))))
  }
  const url = new URL(c.req.url)
  let paths: string[] = []
  try {
    paths = procedurePaths(url.pathname)
  } catch {
    // A malformed percent-escape: answer without paths.
  }
  const batched = url.searchParams.get('batch') === '1'
  const body = batched && paths.length > 0 ? paths.map((path) => item(path)) : item(paths[0])
  return c.json(body, error.httpStatus)
}
