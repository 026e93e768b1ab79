/** `GET /admin`: the console's front page, and the disconnect confirmation. */
import { Hono } from 'hono'
import { toAccountStatus } from '../../../app/account-status.ts'
import { expiringAccounts } from '../../../app/expiry-watch.ts'
import type { HttpDeps } from '../deps.ts'
import { consolePage } from '../pages/console.ts'
import { disconnectPage } from '../pages/disconnect.ts'
import { csrfFor } from './actions.ts'
import { countPerAccount } from './pending.ts'

const LATEST = 10

export function consoleRoutes(deps: HttpDeps): Hono {
  const app = new Hono()

  app.get('/admin', async (c) => {
    const [csrf, accounts, latest, counts] = await Promise.all([
      csrfFor(c, deps),
      deps.accounts.list(),
      deps.mail.list({ limit: LATEST }),
      deps.countByStatus(),
    ])
    const held =
      counts.held > 0 && accounts.some((account) => account.status === 'reauthorization_required')
        ? await countPerAccount(deps.mail, ['held'])
        : new Map<string, number>()
    return c.html(
      consolePage({
        sandbox: deps.sandbox,
        csrf,
        accounts: accounts.map(toAccountStatus),
        messages: latest.items,
        counts,
        held,
        query: c.req.query(),
        expiring: expiringAccounts(accounts, deps.clock.now()).map(toAccountStatus),
        now: deps.clock.now(),
      }),
    )
  })

  app.get('/admin/accounts/disconnect', async (c) => {
    const account = await deps.accounts.get(c.req.query('email') ?? '')
    if (!account || account.status === 'revoked') return c.redirect('/admin?notice=not-found', 303)
    const pending = await countPerAccount(deps.mail, ['queued', 'scheduled', 'held'])
    return c.html(
      disconnectPage({
        sandbox: deps.sandbox,
        csrf: await csrfFor(c, deps),
        account: toAccountStatus(account),
        pending: pending.get(account.email) ?? 0,
      }),
    )
  })
  return app
}
