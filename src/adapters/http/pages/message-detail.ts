/** One accepted message: its envelope, its Gmail ids, and the timeline of its delivery. */
import { html } from 'hono/html'
import { callerIdempotencyKey } from '../../../domain/mail/idempotency.ts'
import type { DeliveryAttempt, OutboxEntry } from '../../../domain/mail/record.ts'
import { bytes, statusPill, when } from './format.ts'
import { type Markup, page } from './layout.ts'
import { messageActions, subjectText } from './messages-table.ts'
import { noticeFrom } from './notice.ts'

const OUTCOMES: Record<DeliveryAttempt['outcome'], string> = {
  sent: 'Sent: Gmail accepted the message',
  retry: 'Attempt failed; will retry',
  held: 'Held: the account needs reauthorization',
  failed: 'Failed for good',
  released: 'Put back in the queue',
}

function addresses(list: string[]): Markup | string {
  return list.length === 0 ? html`<span class="muted">none</span>` : list.join(', ')
}

function timeline(entry: OutboxEntry): Markup {
  const events: Markup[] = [html`<li><strong>Accepted</strong> · ${when(entry.createdAt)}</li>`]
  if (entry.sendAt !== undefined) {
    events.push(html`<li><strong>Scheduled</strong> for ${when(entry.sendAt)}</li>`)
  }
  for (const attempt of entry.attemptLog) {
    events.push(
      html`<li class="${attempt.outcome}"><strong>${OUTCOMES[attempt.outcome]}</strong> · ${when(attempt.at)}${attempt.error ? html`<br><span class="small"><code>${attempt.error.code}</code> ${attempt.error.message}</span>` : ''}</li>`,
    )
  }
  if (entry.status === 'canceled')
    events.push(html`<li><strong>Canceled</strong> · ${when(entry.updatedAt)}</li>`)
  if (entry.nextAttemptAt !== undefined && (entry.status === 'queued' || entry.status === 'scheduled')) {
    events.push(html`<li class="muted">Next attempt at ${when(entry.nextAttemptAt)}</li>`)
  }
  return html`<ol class="timeline">${events}</ol>`
}

export function messageDetailPage(view: {
  sandbox: boolean
  csrf: string
  entry: OutboxEntry
  query: Record<string, string | undefined>
  /** The name of the API key that made it (`entry.apiKeyId`), when known. */
  keyName?: string
}): Markup {
  const { entry } = view
  const idempotencyKey = callerIdempotencyKey(entry)
  const here = `/admin/messages/${encodeURIComponent(entry.id)}`
  return page(
    {
      title: subjectText(entry),
      sandbox: view.sandbox,
      section: 'messages',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<p class="small"><a href="/admin/messages">← All messages</a></p>
<h1>${subjectText(entry)}</h1>
${noticeFrom(view.query)}
<div class="actions-bar">${statusPill(entry.status)} ${messageActions(entry, view.csrf, here)}</div>
${entry.error ? html`<div class="banner ${entry.status === 'failed' ? 'error' : ''}" role="note"><p>Last error: <code>${entry.error.code}</code> ${entry.error.message}</p></div>` : ''}
<div class="grid">
<section class="card" aria-labelledby="envelope-heading">
<h2 id="envelope-heading">Message</h2>
<dl class="facts">
<dt>Subject</dt><dd>${subjectText(entry)}</dd>
<dt>From</dt><dd>${entry.from}</dd>
<dt>Account</dt><dd>${entry.account}</dd>
<dt>To</dt><dd>${addresses(entry.to)}</dd>
<dt>Cc</dt><dd>${addresses(entry.cc)}</dd>
<dt>Bcc</dt><dd>${addresses(entry.bcc)}</dd>
<dt>Size</dt><dd>${bytes(entry.size)}</dd>
<dt>Message-ID</dt><dd class="mono">${entry.messageId}</dd>
${entry.threadId === undefined ? '' : html`<dt>Thread</dt><dd class="mono">${entry.threadId}</dd>`}
<dt>Id</dt><dd class="mono">${entry.id}</dd>
<dt>API key</dt><dd>${
      entry.apiKeyId === undefined
        ? html`<span class="muted">not recorded</span>`
        : html`<span class="mono" data-key-id>${entry.apiKeyId}</span>${view.keyName === undefined ? '' : html` · ${view.keyName}`}`
    }</dd>
${idempotencyKey === undefined ? '' : html`<dt>Idempotency key</dt><dd class="mono">${idempotencyKey}</dd>`}
</dl>
</section>
<section class="card" aria-labelledby="delivery-heading">
<h2 id="delivery-heading">Delivery</h2>
<dl class="facts">
<dt>Status</dt><dd>${statusPill(entry.status)}</dd>
<dt>Attempts</dt><dd>${entry.attempts}</dd>
${entry.sentAt === undefined ? '' : html`<dt>Sent</dt><dd>${when(entry.sentAt)}</dd>`}
<dt>Gmail message</dt><dd class="mono">${
      entry.gmailMessageId === undefined
        ? html`<span class="muted">not yet</span>`
        : view.sandbox
          ? html`<a href="/admin/sandbox/mailbox/${encodeURIComponent(entry.gmailMessageId)}">${entry.gmailMessageId}</a>`
          : entry.gmailMessageId
    }</dd>
${entry.gmailThreadId === undefined ? '' : html`<dt>Gmail thread</dt><dd class="mono">${entry.gmailThreadId}</dd>`}
</dl>
<h3>Timeline</h3>
${timeline(entry)}
</section>
</div>`,
  )
}
