/**
 * The Hono app: health, metrics, tRPC at `/trpc` (API keys, rate limit, CORS, body
 * cap), the OAuth routes and the admin console. The same app runs on Node
 * (`@hono/node-server`) and Deno (`Deno.serve`).
 */
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { isServiceError } from '../../domain/errors.ts'
import { MAX_MESSAGE_BYTES } from '../../domain/mail/message.ts'
import { adminAuthRoutes } from './admin-auth-routes.ts'
import { requireAdmin } from './admin-guard.ts'
import { adminRoutes } from './admin-routes.ts'
import type { HttpDeps } from './deps.ts'
import { healthRoutes } from './health-routes.ts'
import { metricsRoute } from './metrics-route.ts'
import { oauthRoutes } from './oauth-routes.ts'
import { securityHeaders } from './security-headers.ts'
import { apiKeyGate, callerOf } from './trpc/api-key-gate.ts'
import { createContextInner } from './trpc/context.ts'
import { trpcCors } from './trpc/cors.ts'
import { trpcEdgeError } from './trpc/edge-errors.ts'
import { trpcHandler } from './trpc/handler.ts'
import { MAX_BATCH_SIZE } from './trpc/limits.ts'
import { retryAfterOf } from './trpc/retry-after.ts'
import { appRouter } from './trpc/router.ts'
import { uploadRoutes } from './upload-route.ts'

/** A 35 MiB message in base64 inside JSON, plus room for the other fields. */
export const DEFAULT_MAX_BODY_BYTES = Math.ceil((MAX_MESSAGE_BYTES * 4) / 3) + 2 * 1024 * 1024
/** Forms and JSON of the admin and OAuth routes are small; anything bigger is refused unread. */
export const FORM_MAX_BODY_BYTES = 1024 * 1024

export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono()
  app.use('*', securityHeaders({ https: deps.publicUrl.startsWith('https:') }))

  app.route('/', healthRoutes(deps))
  if (deps.metrics) {
    const { scrape, token } = deps.metrics
    app.route('/', metricsRoute({ ...deps, scrape, ...(token === undefined ? {} : { metricsToken: token }) }))
  }

  // CORS_ORIGINS and the origins of the keys not revoked (keys may be made at any time).
  app.use('/trpc/*', trpcCors(deps))
  // Order matters: who may call, then how much they may send, and only then is the body read.
  app.use('/trpc/*', apiKeyGate(deps))
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  app.use(
    '/trpc/*',
    trpcHandler({
      router: appRouter,
      endpoint: '/trpc',
      // The gate refuses a longer batch first, with one short answer; this stands behind it.
      maxBatchSize: MAX_BATCH_SIZE,
      maxBodyBytes,
      tooLarge: (c) =>
        trpcEdgeError(c, {
          code: 'PAYLOAD_TOO_LARGE',
          httpStatus: 413,
          message: `The request body is larger than ${maxBodyBytes} bytes (a 35 MiB message in base64 plus its fields)`,
          perCall: true,
        }),
      responseMeta: ({ errors }) => retryAfterOf(errors),
      createContext: (c, bodyStrings) => {
        const context = createContextInner(
          { mail: deps.mail, accounts: deps.accounts, ...(deps.admin ? { admin: deps.admin } : {}) },
          callerOf(c),
        )
        if (bodyStrings !== undefined) context.bodyStrings = bodyStrings
        return context as unknown as Record<string, unknown>
      },
      onError: ({ error }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          deps.logger.error('Procedure failed', { error: error.cause ?? error })
        }
      },
    }),
  )

  const formLimit = bodyLimit({
    maxSize: FORM_MAX_BODY_BYTES,
    onError: (c) =>
      c.json(
        {
          error: {
            code: 'PAYLOAD_TOO_LARGE',
            message: `The request body is larger than ${FORM_MAX_BODY_BYTES} bytes`,
          },
        },
        413,
      ),
  })
  for (const path of ['/admin', '/admin/*', '/oauth/*']) app.use(path, formLimit)

  // Attachments sent ahead of their message, streamed to storage (CORS and the key as for /trpc).
  if (deps.uploads) {
    app.use('/uploads', trpcCors(deps))
    app.route('/', uploadRoutes({ ...deps, uploads: deps.uploads }))
  }

  app.route('/', oauthRoutes(deps))
  app.route('/', adminAuthRoutes(deps))
  app.route('/', adminRoutes(deps))
  deps.mount?.(app, { admin: requireAdmin(deps) })

  app.get('/', (c) => c.redirect('/admin', 302))
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: 'No such route' } }, 404))
  app.onError((error, c) => {
    // PostgreSQL mode with the database away (a session check, an OAuth route): say so, with when to retry.
    if (isServiceError(error) && error.code === 'SERVICE_UNAVAILABLE') {
      const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 5_000) / 1000))
      c.header('Retry-After', String(seconds))
      return c.json({ error: { code: error.code, message: error.message } }, 503)
    }
    deps.logger.error('Request failed', { path: new URL(c.req.url).pathname, error })
    return c.json({ error: { code: 'INTERNAL', message: 'An internal error occurred' } }, 500)
  })
  return app
}
