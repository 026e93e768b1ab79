/**
 * Headers of every answer: no referrer, no sniffing, not cached (answers
 * carry mail and account data). HTML pages also get a strict
 * Content-Security-Policy: no script at all (the pages need none), nothing
 * loaded from elsewhere, forms posting only to us, no framing by anyone
 * (CSP Level 3 `frame-ancestors`, with X-Frame-Options for old browsers).
 */
import type { MiddlewareHandler } from 'hono'

export const PAGE_CSP = [
  "default-src 'none'",
  // The pages' one <style> element, and inline styles of mail shown in the sandbox mailbox.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "script-src 'none'",
  "form-action 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** `https`: the service is reached over TLS (PUBLIC_URL), so browsers are told to keep to it (RFC 6797). */
export function securityHeaders(options: { https?: boolean } = {}): MiddlewareHandler {
  return async (c, next) => {
    await next()
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'no-referrer')
    if (options.https) c.header('Strict-Transport-Security', 'max-age=31536000')
    const type = c.res.headers.get('Content-Type') ?? ''
    if (type.startsWith('text/html')) {
      if (!c.res.headers.has('Content-Security-Policy')) c.header('Content-Security-Policy', PAGE_CSP)
      c.header('X-Frame-Options', 'DENY')
      c.header('Cache-Control', 'no-store')
    } else if (!c.res.headers.has('Cache-Control')) {
      c.header('Cache-Control', 'no-store')
    }
  }
}
