/** Every accepted message, newest first, filtered by status and paged by cursor. */
import { html, raw } from 'hono/html'
import { MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../../domain/mail/record.ts'
import { label } from './format.ts'
import { type Markup, page } from './layout.ts'
import { messagesTable } from './messages-table.ts'
import { noticeFrom } from './notice.ts'

export interface MessagesView {
  sandbox: boolean
  csrf: string
  status?: MailStatus
  cursor?: string
  items: OutboxEntry[]
  nextCursor?: string
  counts: Record<MailStatus, number>
  query: Record<string, string | undefined>
}

function listUrl(status: MailStatus | undefined, cursor?: string): string {
  const params = new URLSearchParams()
  if (status !== undefined) params.set('status', status)
  if (cursor !== undefined) params.set('cursor', cursor)
  const query = params.toString()
  return query === '' ? '/admin/messages' : `/admin/messages?${query}`
}

export function messagesPage(view: MessagesView): Markup {
  const here = listUrl(view.status, view.cursor)
  const total = view.status === undefined ? undefined : view.counts[view.status]
  return page(
    {
      title: view.status === undefined ? 'Messages' : `Messages: ${label(view.status)}`,
      sandbox: view.sandbox,
      section: 'messages',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<h1>Messages${view.status === undefined ? '' : html` <span class="muted">· ${label(view.status)}</span>`}</h1>
${noticeFrom(view.query)}
<section class="card" aria-label="Message list">
<form class="fields" method="get" action="/admin/messages" role="search">
<div><label for="status">Status</label>
<select id="status" name="status">
<option value=""${view.status === undefined ? raw(' selected') : ''}>All statuses</option>
${MAIL_STATUSES.map((status) => html`<option value="${status}"${status === view.status ? raw(' selected') : ''}>${label(status)} (${view.counts[status] ?? 0})</option>`)}
</select></div>
<div><button type="submit">Filter</button></div>
</form>
${total === undefined ? '' : html`<p class="muted small">${total} in all.</p>`}
${messagesTable(view.items, {
  csrf: view.csrf,
  back: here,
  sandbox: view.sandbox,
  empty:
    view.status === undefined ? 'No message has been accepted yet.' : `No ${label(view.status)} message.`,
})}
<nav class="pager" aria-label="Pages">
${view.cursor === undefined ? '' : html`<a class="button" href="${listUrl(view.status)}">Newest</a>`}
${view.nextCursor === undefined ? '' : html`<a class="button" href="${listUrl(view.status, view.nextCursor)}" rel="next">Older messages</a>`}
</nav>
</section>`,
  )
}
