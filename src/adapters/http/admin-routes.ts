/**
 * The admin console's routes. Pages are server-rendered and work without
 * script; every state change is a POST carrying the session's CSRF token
 * (or the bearer admin token), answered by a 303 back with a notice.
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { accountRoutes } from './admin/account-routes.ts'
import { consoleRoutes } from './admin/console-routes.ts'
import { keyRoutes } from './admin/key-routes.ts'
import { messageRoutes } from './admin/message-routes.ts'
import { webhookRoutes } from './admin/webhook-routes.ts'
import { canonicalHost, requireAdmin } from './admin-guard.ts'
import type { HttpDeps } from './deps.ts'
import { sandboxRoutes } from './sandbox-pages/routes.ts'

/** Served by the sign-in routes, before any session exists. */
const OPEN_PATHS = new Set(['/admin/login', '/admin/logout'])

/** The middleware, except on the sign-in paths. */
function guarded(middleware: MiddlewareHandler): MiddlewareHandler {
  return (c, next) => (OPEN_PATHS.has(new URL(c.req.url).pathname) ? next() : middleware(c, next))
}

export function adminRoutes(deps: HttpDeps): Hono {
  const app = new Hono()
  app.use('/admin/*', guarded(canonicalHost(deps.publicUrl)), guarded(requireAdmin(deps)))

  app.route('/', consoleRoutes(deps))
  app.route('/', accountRoutes(deps))
  app.route('/', messageRoutes(deps))
  if (deps.admin?.keys) app.route('/', keyRoutes(deps, deps.admin.keys))
  if (deps.admin?.webhooks) app.route('/', webhookRoutes(deps, deps.admin.webhooks))
  if (deps.sandbox && deps.sandboxMailbox) app.route('/', sandboxRoutes(deps, deps.sandboxMailbox))
  return app
}
