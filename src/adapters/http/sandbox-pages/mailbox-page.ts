/** The sandbox mailbox: everything the emulated Gmail received, newest first. */
import { html } from 'hono/html'
import { bytes, plural, when } from '../pages/format.ts'
import { type Markup, page } from '../pages/layout.ts'
import { noticeFrom } from '../pages/notice.ts'
import type { MailboxMessage } from './mailbox-port.ts'

export function mailboxPage(view: {
  csrf: string
  messages: MailboxMessage[]
  retention: { messages: number; bytes: number; dropped: number }
  query: Record<string, string | undefined>
}): Markup {
  return page(
    {
      title: 'Sandbox mailbox',
      sandbox: true,
      section: 'mailbox',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<h1>Sandbox mailbox</h1>
${noticeFrom(view.query)}
<section class="card" aria-labelledby="received-heading">
<div class="card-head"><h2 id="received-heading">Received by the emulated Gmail <span class="muted small">(${plural(view.messages.length, 'message')})</span></h2>
${view.messages.length === 0 ? '' : html`<form class="inline" method="post" action="/admin/sandbox/mailbox/clear"><input type="hidden" name="csrf" value="${view.csrf}"><button class="danger" type="submit">Empty the mailbox</button></form>`}</div>
<p class="muted small">What the service sent lands here instead of in real inboxes, exactly as Gmail would have received it.</p>
<p class="muted small">The mailbox lives in memory: it keeps the newest ${plural(view.retention.messages, 'message')} (${bytes(view.retention.bytes)} at most) and drops older ones${view.retention.dropped > 0 ? html`, ${plural(view.retention.dropped, 'message')} so far` : ''}; a restart empties it.</p>
${
  view.messages.length === 0
    ? html`<p class="empty">The mailbox is empty. Send a message through the API and it appears here.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Subject</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Received</th><th scope="col" class="num">Size</th></tr></thead>
<tbody>${view.messages.map(
        (message) => html`<tr>
<td class="message"><a href="/admin/sandbox/mailbox/${encodeURIComponent(message.id)}">${message.subject.trim() === '' ? '(no subject)' : message.subject}</a></td>
<td class="small">${message.from}</td>
<td class="small">${[...message.to, ...message.cc, ...message.bcc].join(', ')}</td>
<td class="small">${when(message.receivedAt)}</td>
<td class="num small">${bytes(message.size)}</td>
</tr>`,
      )}</tbody></table></div>`
}
</section>`,
  )
}
