/**
 * CORS for `/trpc`: the origins of `CORS_ORIGINS` and those of every key
 * not revoked (a preflight carries no key, so it cannot be told which key
 * will follow; the gate then refuses a key used from an origin outside its
 * own list). CORS only tells browsers which pages may read the answers: it
 * stops no script that sends its own `Origin` (see the README's "Keys and
 * scopes").
 */
import type { MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import type { ApiKeyCheck } from '../secrets.ts'

export function trpcCors(deps: {
  corsOrigins: readonly string[]
  apiKeys: Pick<ApiKeyCheck, 'origins'>
}): MiddlewareHandler {
  const configured = new Set(deps.corsOrigins)
  const allowed = async (origin: string): Promise<boolean> => {
    if (configured.has(origin)) return true
    // The store away: no CORS headers; the gate gives the request its own answer.
    const ofKeys = await deps.apiKeys.origins().catch(() => new Set<string>())
    return ofKeys.has(origin)
  }
  const answer = cors({
    origin: (origin) => origin,
    // Content-Digest: the optional checksum of POST /uploads.
    allowHeaders: ['Authorization', 'Content-Type', 'trpc-accept', 'Content-Digest'],
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    maxAge: 600,
  })
  return async (c, next) => {
    const origin = c.req.header('Origin')
    if (origin !== undefined && origin !== '' && (await allowed(origin))) return answer(c, next)
    // Any other origin gets no CORS headers, and a preflight goes on to the gate (401: it carries no key).
    await next()
    c.header('Vary', 'Origin', { append: true })
  }
}
