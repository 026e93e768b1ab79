/**
 * The Hono app: health, tRPC at `/trpc` (API keys, rate limit, CORS, body
 * cap), the OAuth routes and the admin console. The same app runs on Node
 * (`@hono/node-server`) and Deno (`Deno.serve`).
 */
import { trpcServer } from '@hono/trpc-server'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { MAX_MESSAGE_BYTES } from '../../domain/mail/message.ts'
import { adminAuthRoutes } from './admin-auth-routes.ts'
import { requireAdmin } from './admin-guard.ts'
import { adminRoutes } from './admin-routes.ts'
import type { HttpDeps } from './deps.ts'
import { healthRoutes } from './health-routes.ts'
import { oauthRoutes } from './oauth-routes.ts'
import { bearerToken } from './secrets.ts'
import { securityHeaders } from './security-headers.ts'
import { type Caller, createContextInner } from './trpc/context.ts'
import { appRouter } from './trpc/router.ts'

/** A 35 MiB message in base64 inside JSON, plus room for the other fields. */
export const DEFAULT_MAX_BODY_BYTES = Math.ceil((MAX_MESSAGE_BYTES * 4) / 3) + 2 * 1024 * 1024

export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono()
  app.use('*', securityHeaders())

  app.route('/', healthRoutes(deps))

  if (deps.corsOrigins.length > 0) {
    app.use(
      '/trpc/*',
      cors({
        origin: deps.corsOrigins,
        allowHeaders: ['Authorization', 'Content-Type', 'trpc-accept'],
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        maxAge: 600,
      }),
    )
  }
  app.use(
    '/trpc/*',
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      onError: (c) =>
        c.json(
          [
            {
              error: {
                message: 'The request body is too large',
                code: -32600,
                data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 },
              },
            },
          ][0],
          413,
        ),
    }),
  )
  app.use(
    '/trpc/*',
    trpcServer({
      router: appRouter,
      endpoint: '/trpc',
      createContext: async (_opts, c) => {
        const presented = bearerToken(c.req.header('Authorization'))
        const keyId = presented === undefined ? undefined : await deps.apiKeys.verify(presented)
        const caller: Caller | undefined = keyId === undefined ? undefined : { keyId }
        const waitMs = caller ? deps.rateLimiter.take(caller.keyId) : 0
        return createContextInner(
          { mail: deps.mail, accounts: deps.accounts },
          caller,
          waitMs > 0 ? waitMs : undefined,
        ) as unknown as Record<string, unknown>
      },
      onError: ({ error }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') {
          deps.logger.error('Procedure failed', { error: error.cause ?? error })
        }
      },
    }),
  )

  app.route('/', oauthRoutes(deps))
  app.route('/', adminAuthRoutes(deps))
  app.route('/', adminRoutes(deps))
  deps.mount?.(app, { admin: requireAdmin(deps) })

  app.get('/', (c) => c.redirect('/admin', 302))
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: 'No such route' } }, 404))
  app.onError((error, c) => {
    deps.logger.error('Request failed', { path: new URL(c.req.url).pathname, error })
    return c.json({ error: { code: 'INTERNAL', message: 'An internal error occurred' } }, 500)
  })
  return app
}
