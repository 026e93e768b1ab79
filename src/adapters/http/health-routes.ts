/**
 * `/healthz` (the process serves) and `/readyz` (storage writable, an
 * account connected). A ready service may still carry warnings (an
 * account's Google access ending within 24 h): still 200, so that a load
 * balancer keeps it, with the warnings in the body for monitoring.
 */
import { Hono } from 'hono'
import type { HttpDeps } from './deps.ts'

export function healthRoutes(deps: HttpDeps): Hono {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const readiness = await deps.readiness()
    if (readiness.ready && readiness.warnings !== undefined && readiness.warnings.length > 0)
      return c.json({ status: 'ready', warnings: readiness.warnings })
    return readiness.ready
      ? c.json({ status: 'ready' })
      : c.json({ status: 'not_ready', reason: readiness.reason ?? 'Not ready' }, 503)
  })
  return app
}
