/** `/healthz` (the process serves) and `/readyz` (storage writable, an account connected). */
import { Hono } from 'hono'
import type { HttpDeps } from './deps.ts'

export function healthRoutes(deps: HttpDeps): Hono {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const readiness = await deps.readiness()
    return readiness.ready
      ? c.json({ status: 'ready' })
      : c.json({ status: 'not_ready', reason: readiness.reason ?? 'Not ready' }, 503)
  })
  return app
}
