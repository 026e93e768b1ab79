/** The console's messages: the list (filter, cursor), one message, retry and cancel. */
import { Hono } from 'hono'
import { isServiceError } from '../../../domain/errors.ts'
import { MAIL_STATUSES, type MailStatus } from '../../../domain/mail/record.ts'
import type { HttpDeps } from '../deps.ts'
import { messageDetailPage } from '../pages/message-detail.ts'
import { messagesPage } from '../pages/messages.ts'
import { simplePage } from '../pages/simple-page.ts'
import { attempt, back, csrfFor, csrfPasses, csrfRefused, formOf, safeBack } from './actions.ts'

const PAGE_SIZE = 25

function statusOf(value: string | undefined): MailStatus | undefined {
  return MAIL_STATUSES.find((status) => status === value)
}

export function messageRoutes(deps: HttpDeps): Hono {
  const app = new Hono()

  app.get('/admin/messages', async (c) => {
    const status = statusOf(c.req.query('status'))
    const cursor = c.req.query('cursor') || undefined
    const query = {
      limit: PAGE_SIZE,
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { cursor }),
    }
    const [csrf, page, counts] = await Promise.all([
      csrfFor(c, deps),
      deps.mail.list(query).catch((error: unknown) => {
        // A cursor from another filter or a damaged link: start from the newest.
        if (isServiceError(error) && error.code === 'BAD_REQUEST') return undefined
        throw error
      }),
      deps.countByStatus(),
    ])
    if (page === undefined)
      return c.redirect(status ? `/admin/messages?status=${status}` : '/admin/messages', 303)
    return c.html(
      messagesPage({
        sandbox: deps.sandbox,
        csrf,
        ...(status === undefined ? {} : { status }),
        ...(cursor === undefined ? {} : { cursor }),
        items: page.items,
        ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        counts,
        query: c.req.query(),
      }),
    )
  })

  app.get('/admin/messages/:id', async (c) => {
    const entry = await deps.mail.get(c.req.param('id')).catch((error: unknown) => {
      if (isServiceError(error) && error.code === 'NOT_FOUND') return undefined
      throw error
    })
    if (entry === undefined) {
      return c.html(
        simplePage({
          sandbox: deps.sandbox,
          title: 'No such message',
          message: 'No message has this id; it may have passed the retention period.',
          back: '/admin/messages',
          backLabel: 'All messages',
        }),
        404,
      )
    }
    // The name of the key that made it, when that key is still listed.
    const keyName =
      entry.apiKeyId === undefined
        ? undefined
        : (await deps.admin?.keys?.list())?.find((key) => key.id === entry.apiKeyId)?.name
    return c.html(
      messageDetailPage({
        sandbox: deps.sandbox,
        csrf: await csrfFor(c, deps),
        entry,
        query: c.req.query(),
        ...(keyName === undefined ? {} : { keyName }),
      }),
    )
  })

  for (const action of ['retry', 'cancel'] as const) {
    app.post(`/admin/messages/:id/${action}`, async (c) => {
      const form = await formOf(c)
      if (!(await csrfPasses(c, deps, form))) return csrfRefused(c, deps)
      const id = c.req.param('id')
      const to = safeBack(form['back'], `/admin/messages/${encodeURIComponent(id)}`)
      return attempt(
        c,
        to,
        async () => {
          await (action === 'retry' ? deps.mail.retry(id) : deps.mail.cancel(id))
          deps.logger.info(action === 'retry' ? 'Admin retried a message' : 'Admin canceled a message', {
            id,
          })
          return back(c, to, action === 'retry' ? 'retried' : 'canceled')
        },
        { badRequest: action === 'retry' ? 'retry-refused' : 'cancel-refused' },
      )
    })
  }
  return app
}
