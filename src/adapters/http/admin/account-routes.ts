/** The account actions of the console: make default, disconnect. POST forms with CSRF. */
import { Hono } from 'hono'
import type { HttpDeps } from '../deps.ts'
import { attempt, back, csrfPasses, csrfRefused, formOf } from './actions.ts'

export function accountRoutes(deps: HttpDeps): Hono {
  const app = new Hono()

  app.post('/admin/accounts/default', async (c) => {
    const form = await formOf(c)
    if (!(await csrfPasses(c, deps, form))) return csrfRefused(c, deps)
    const email = form['email'] ?? ''
    return attempt(
      c,
      '/admin',
      async () => {
        await deps.accounts.makeDefault(email)
        deps.logger.info('Admin made an account the default', { account: email.toLowerCase() })
        return back(c, '/admin', 'made-default', email.toLowerCase())
      },
      { badRequest: 'default-refused' },
    )
  })

  app.post('/admin/accounts/disconnect', async (c) => {
    const form = await formOf(c)
    if (!(await csrfPasses(c, deps, form))) return csrfRefused(c, deps)
    const email = form['email'] ?? ''
    return attempt(
      c,
      '/admin',
      async () => {
        await deps.accounts.disconnect(email)
        deps.logger.info('Admin disconnected an account', { account: email.toLowerCase() })
        return back(c, '/admin', 'disconnected', email.toLowerCase())
      },
      { badRequest: 'not-found' },
    )
  })
  return app
}
