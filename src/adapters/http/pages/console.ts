/** The admin console's front page: accounts, held mail, latest messages. */
import { html } from 'hono/html'
import type { AccountStatus } from '../../../app/account-status.ts'
import type { MailStatus, OutboxEntry } from '../../../domain/mail/record.ts'
import { type Markup, page } from './layout.ts'

export function consolePage(options: {
  sandbox: boolean
  csrf: string
  accounts: AccountStatus[]
  messages: OutboxEntry[]
  counts: Record<MailStatus, number>
  notice?: string | undefined
}): Markup {
  const needs = options.accounts.filter((account) => account.status === 'reauthorization_required')
  return page(
    {
      title: 'Console',
      sandbox: options.sandbox,
      ...(options.csrf ? { signOut: { csrf: options.csrf } } : {}),
    },
    html`<h1>Console</h1>
${options.notice ? html`<div class="banner success" role="status"><p>Connected ${options.notice}.</p></div>` : ''}
${needs.map(
  (account) =>
    html`<div class="banner" role="alert"><p><strong>${account.email}</strong> needs reauthorization; ${options.counts.held} message(s) are held.</p><a class="button primary" href="/oauth/login?login_hint=${encodeURIComponent(account.email)}">Reauthorize ${account.email}</a></div>`,
)}
<h2>Accounts</h2>
<table><thead><tr><th>Email</th><th>Status</th><th>Default</th><th>Connected since</th><th>Last refresh</th></tr></thead><tbody>
${options.accounts.map(
  (account) =>
    html`<tr><td>${account.email}</td><td><span class="status status-${account.status}">${account.status.replace('_', ' ')}</span></td><td>${account.isDefault ? 'yes' : ''}</td><td>${account.connectedAt}</td><td>${account.lastRefreshAt ?? ''}</td></tr>`,
)}
</tbody></table>
<p><a class="button primary" href="/oauth/login">Connect an account</a></p>
<h2>Messages</h2>
<ul class="counts">${Object.entries(options.counts).map(([status, count]) => html`<li>${status}: ${count}</li>`)}</ul>
<table><thead><tr><th>Subject</th><th>To</th><th>Status</th><th>Attempts</th></tr></thead><tbody>
${options.messages.map(
  (message) =>
    html`<tr><td>${message.subject}</td><td>${message.to.join(', ')}</td><td><span class="status status-${message.status}">${message.status}</span></td><td>${message.attempts}</td></tr>`,
)}
</tbody></table>`,
  )
}
