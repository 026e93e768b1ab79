/**
 * `GET /metrics`: the Prometheus text format for a scraper holding the
 * admin token or, when set, `METRICS_TOKEN` (a token that can read numbers
 * and nothing else, for the monitoring system's configuration). Bearer only:
 * no cookie, so a browser session never scrapes by accident. Wrong tokens
 * count towards the client address's failed authentications, like every
 * other secret the service checks.
 */
import { Hono } from 'hono'
import {
  attemptOf,
  refused,
  retryAfterSeconds,
  type ThrottleDeps,
  throttledMessage,
} from './auth-throttle.ts'
import { bearerToken, constantTimeEqual, sha256Hex } from './secrets.ts'

export interface MetricsRouteDeps extends ThrottleDeps {
  adminToken: string
  /** Also accepted besides the admin token. */
  metricsToken?: string
  scrape(): Promise<{ contentType: string; body: string }>
}

export function metricsRoute(deps: MetricsRouteDeps): Hono {
  const app = new Hono()
  const accepted = Promise.all(
    [deps.adminToken, ...(deps.metricsToken === undefined ? [] : [deps.metricsToken])].map(sha256Hex),
  )
  app.get('/metrics', async (c) => {
    c.header('Cache-Control', 'no-store')
    const token = bearerToken(c.req.header('Authorization'))
    const attempt = token === undefined ? undefined : attemptOf(deps, c)
    if (attempt !== undefined && attempt.waitMs > 0) {
      c.header('Retry-After', String(retryAfterSeconds(attempt.waitMs)))
      return c.json({ error: { code: 'TOO_MANY_REQUESTS', message: throttledMessage(attempt.waitMs) } }, 429)
    }
    let ok = false
    if (token !== undefined) {
      const presented = await sha256Hex(token)
      // Every accepted digest is compared, so the time says nothing of which one matched.
      for (const digest of await accepted) if (constantTimeEqual(digest, presented)) ok = true
    }
    if (!ok) {
      if (attempt !== undefined)
        refused(deps, attempt.address, 'Metrics token refused (Authorization header)')
      c.header('WWW-Authenticate', 'Bearer realm="metrics"')
      return c.json(
        {
          error: {
            code: 'UNAUTHORIZED',
            message: 'The metrics token (or the admin token) is missing or wrong',
          },
        },
        401,
      )
    }
    const { contentType, body } = await deps.scrape()
    return c.body(body, 200, { 'Content-Type': contentType })
  })
  return app
}
