/** The account actions of the console: make default, disconnect. POST forms with CSRF. */
import { Hono } from 'hono'
import type { HttpDeps } from '../deps.ts'
import type { NoticeCode } from '../pages/notice.ts'
import { attempt, back, csrfPasses, csrfRefused, formOf } from './actions.ts'

interface AccountAction {
  path: string
  run: (deps: HttpDeps, email: string) => Promise<void>
  logLine: string
  done: NoticeCode
  refused: NoticeCode
}

const ACTIONS: AccountAction[] = [
  {
    path: '/admin/accounts/default',
    run: (deps, email) => deps.accounts.makeDefault(email),
    logLine: 'Admin made an account the default',
    done: 'made-default',
    refused: 'default-refused',
  },
  {
    path: '/admin/accounts/disconnect',
    run: (deps, email) => deps.accounts.disconnect(email),
    logLine: 'Admin disconnected an account',
    done: 'disconnected',
    refused: 'not-found',
  },
]

export function accountRoutes(deps: HttpDeps): Hono {
  const app = new Hono()
  for (const action of ACTIONS) {
    app.post(action.path, async (c) => {
      const form = await formOf(c)
      if (!(await csrfPasses(c, deps, form))) return csrfRefused(c, deps)
      const email = (form['email'] ?? '').toLowerCase()
      return attempt(
        c,
        '/admin',
        async () => {
          await action.run(deps, email)
          deps.logger.info(action.logLine, { account: email })
          return back(c, '/admin', action.done, email)
        },
        { badRequest: action.refused },
      )
    })
  }
  return app
}
