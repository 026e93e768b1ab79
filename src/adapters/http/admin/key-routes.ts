/** The console's API keys: list, make (the key shown once), revoke. POST forms with CSRF. */
import { type Context, Hono } from 'hono'
import type { ApiKeyAdmin } from '../../../app/api-keys/admin.ts'
import type { KeyScope } from '../../../domain/api-keys/api-key.ts'
import { isServiceError } from '../../../domain/errors.ts'
import type { HttpDeps } from '../deps.ts'
import { keysPage, secretShownOncePage } from '../pages/keys.ts'
import { attempt, back, csrfFor, csrfPasses, csrfRefused } from './actions.ts'
import { formFields, listField } from './form-fields.ts'

/** The scope the create form describes; fields left empty do not limit. */
function scopeFrom(form: Map<string, string[]>): KeyScope {
  const scope: KeyScope = {}
  const procedures = form.get('procedures') ?? []
  if (procedures.length > 0) scope.procedures = procedures
  for (const name of ['from', 'recipients', 'origins'] as const) {
    const values = listField(form, name)
    if (values.length > 0) scope[name] = values
  }
  const rate = (form.get('ratePerMinute')?.[0] ?? '').trim()
  if (rate !== '') scope.ratePerMinute = Number(rate)
  return scope
}

export function keyRoutes(deps: HttpDeps, keys: ApiKeyAdmin): Hono {
  const app = new Hono()
  const render = async (c: Context, error?: string) =>
    c.html(
      keysPage({
        sandbox: deps.sandbox,
        csrf: await csrfFor(c, deps),
        keys: await keys.list(),
        query: error === undefined ? c.req.query() : {},
        ...(error === undefined ? {} : { error }),
      }),
      error === undefined ? 200 : 400,
    )

  app.get('/admin/keys', (c) => render(c))

  app.post('/admin/keys', async (c) => {
    const form = await formFields(c)
    const single = Object.fromEntries([...form].map(([name, values]) => [name, values[0] ?? '']))
    if (!(await csrfPasses(c, deps, single))) return csrfRefused(c, deps)
    try {
      const made = await keys.create({ name: (single['name'] ?? '').trim(), scope: scopeFrom(form) })
      deps.logger.info('Admin made an API key', { keyId: made.id })
      return c.html(
        secretShownOncePage({
          sandbox: deps.sandbox,
          csrf: await csrfFor(c, deps),
          section: 'keys',
          title: `Key “${made.name}” made`,
          what: 'API key',
          secret: made.key,
          back: '/admin/keys',
        }),
      )
    } catch (error) {
      if (isServiceError(error) && error.code === 'BAD_REQUEST') return render(c, error.message)
      throw error
    }
  })

  app.post('/admin/keys/revoke', async (c) => {
    const form = await formFields(c)
    const id = form.get('id')?.[0] ?? ''
    if (!(await csrfPasses(c, deps, { csrf: form.get('csrf')?.[0] ?? '' }))) return csrfRefused(c, deps)
    return attempt(
      c,
      '/admin/keys',
      async () => {
        await keys.revoke(id)
        deps.logger.info('Admin revoked an API key', { keyId: id })
        return back(c, '/admin/keys', 'key-revoked')
      },
      { badRequest: 'key-revoke-refused' },
    )
  })
  return app
}
