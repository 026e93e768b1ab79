/**
 * Headers of every HTML page: a strict Content-Security-Policy (no script
 * but our own inline-free pages, no framing), no referrer, no sniffing.
 */
import type { MiddlewareHandler } from 'hono'

export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "script-src 'self'",
  "form-action 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next()
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'no-referrer')
    const type = c.res.headers.get('Content-Type') ?? ''
    if (type.startsWith('text/html')) {
      if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', PAGE_CSP)
      c.header('X-Frame-Options', 'DENY')
      c.header('Cache-Control', 'no-store')
    }
  }
}
