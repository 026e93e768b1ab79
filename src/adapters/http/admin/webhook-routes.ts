/** The console's webhooks: endpoints (add with the secret shown once, delete), deliveries, replay. */
import { type Context, Hono } from 'hono'
import type { WebhookAdmin } from '../../../app/webhooks/admin.ts'
import { isServiceError } from '../../../domain/errors.ts'
import { EVENT_TYPES, type EventType } from '../../../domain/webhooks/event.ts'
import type { HttpDeps } from '../deps.ts'
import { secretShownOncePage } from '../pages/keys.ts'
import { deliveriesPage, webhooksPage } from '../pages/webhooks.ts'
import { attempt, back, csrfFor, csrfPasses, csrfRefused } from './actions.ts'
import { formFields } from './form-fields.ts'

const RECENT = 50

export function webhookRoutes(deps: HttpDeps, webhooks: WebhookAdmin): Hono {
  const app = new Hono()
  const render = async (c: Context, error?: string) =>
    c.html(
      webhooksPage({
        sandbox: deps.sandbox,
        csrf: await csrfFor(c, deps),
        endpoints: await webhooks.list(),
        query: error === undefined ? c.req.query() : {},
        ...(error === undefined ? {} : { error }),
      }),
      error === undefined ? 200 : 400,
    )
  const first = (form: Map<string, string[]>, name: string) => form.get(name)?.[0] ?? ''

  app.get('/admin/webhooks', (c) => render(c))

  app.post('/admin/webhooks', async (c) => {
    const form = await formFields(c)
    if (!(await csrfPasses(c, deps, { csrf: first(form, 'csrf') }))) return csrfRefused(c, deps)
    const events = (form.get('events') ?? []).filter((type): type is EventType =>
      (EVENT_TYPES as readonly string[]).includes(type),
    )
    try {
      const made = await webhooks.create({ url: first(form, 'url').trim(), events })
      deps.logger.info('Admin added a webhook endpoint', { endpointId: made.id })
      return c.html(
        secretShownOncePage({
          sandbox: deps.sandbox,
          csrf: await csrfFor(c, deps),
          section: 'webhooks',
          title: 'Endpoint added',
          what: 'signing secret',
          secret: made.secret,
          back: '/admin/webhooks',
        }),
      )
    } catch (error) {
      if (isServiceError(error) && error.code === 'BAD_REQUEST') return render(c, error.message)
      throw error
    }
  })

  app.post('/admin/webhooks/delete', async (c) => {
    const form = await formFields(c)
    if (!(await csrfPasses(c, deps, { csrf: first(form, 'csrf') }))) return csrfRefused(c, deps)
    const id = first(form, 'id')
    return attempt(
      c,
      '/admin/webhooks',
      async () => {
        await webhooks.delete(id)
        deps.logger.info('Admin deleted a webhook endpoint', { endpointId: id })
        return back(c, '/admin/webhooks', 'webhook-deleted')
      },
      { badRequest: 'invalid' },
    )
  })

  app.get('/admin/webhooks/:id', async (c) => {
    const id = c.req.param('id')
    const endpoint = (await webhooks.list()).find((candidate) => candidate.id === id)
    if (endpoint === undefined) return c.redirect('/admin/webhooks?notice=not-found', 303)
    return c.html(
      deliveriesPage({
        sandbox: deps.sandbox,
        csrf: await csrfFor(c, deps),
        endpoint,
        attempts: await webhooks.deliveries({ id, limit: RECENT }),
        query: c.req.query(),
      }),
    )
  })

  app.post('/admin/webhooks/replay', async (c) => {
    const form = await formFields(c)
    if (!(await csrfPasses(c, deps, { csrf: first(form, 'csrf') }))) return csrfRefused(c, deps)
    const id = first(form, 'id')
    const path = `/admin/webhooks/${encodeURIComponent(id)}`
    return attempt(
      c,
      path,
      async () => {
        await webhooks.replay({ id, eventId: first(form, 'eventId') })
        deps.logger.info('Admin replayed a webhook event', { endpointId: id })
        return back(c, path, 'webhook-replayed')
      },
      { badRequest: 'invalid' },
    )
  })
  return app
}
