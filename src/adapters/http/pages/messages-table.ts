/** A table of accepted messages with their delivery state and actions. */
import { html } from 'hono/html'
import type { OutboxEntry } from '../../../domain/mail/record.ts'
import { statusPill, when } from './format.ts'
import type { Markup } from './layout.ts'

export function canRetry(entry: OutboxEntry): boolean {
  return entry.status === 'failed'
}

export function canCancel(entry: OutboxEntry): boolean {
  return entry.status === 'queued' || entry.status === 'scheduled' || entry.status === 'held'
}

/** Retry and Cancel as POST forms; `back` is where the answer's redirect goes. */
export function messageActions(entry: OutboxEntry, csrf: string, back: string): Markup | string {
  const form = (action: 'retry' | 'cancel', text: string, style: string) =>
    html`<form class="inline" method="post" action="/admin/messages/${encodeURIComponent(entry.id)}/${action}"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="back" value="${back}"><button class="${style}" type="submit">${text}<span class="sr-only"> (${entry.subject || entry.id})</span></button></form>`
  if (canRetry(entry)) return form('retry', 'Retry', 'primary')
  if (canCancel(entry)) return form('cancel', 'Cancel', 'danger')
  return ''
}

export function subjectText(entry: OutboxEntry): string {
  return entry.subject.trim() === '' ? '(no subject)' : entry.subject
}

export function messagesTable(
  entries: OutboxEntry[],
  options: { csrf: string; back: string; sandbox: boolean; empty: string },
): Markup {
  if (entries.length === 0) return html`<p class="empty">${options.empty}</p>`
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Message</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Last error</th><th scope="col">Accepted</th><th scope="col">Gmail id</th><th scope="col">Actions</th></tr></thead>
<tbody>
${entries.map(
  (entry) => html`<tr>
<td class="message"><a href="/admin/messages/${encodeURIComponent(entry.id)}">${subjectText(entry)}</a><div class="small muted">${entry.account} → ${entry.to.join(', ')}${entry.cc.length + entry.bcc.length > 0 ? ` +${entry.cc.length + entry.bcc.length}` : ''}</div></td>
<td>${statusPill(entry.status)}</td>
<td class="num">${entry.attempts}</td>
<td class="small error-cell">${entry.error ? html`<span class="error-text"><code>${entry.error.code}</code></span> ${entry.error.message}` : ''}</td>
<td class="small">${when(entry.createdAt)}</td>
<td class="small mono">${
    entry.gmailMessageId === undefined
      ? ''
      : options.sandbox
        ? html`<a href="/admin/sandbox/mailbox/${encodeURIComponent(entry.gmailMessageId)}">${entry.gmailMessageId}</a>`
        : entry.gmailMessageId
  }</td>
<td class="actions">${messageActions(entry, options.csrf, options.back)}</td>
</tr>`,
)}
</tbody></table></div>`
}
