/** The admin console's front page: held mail, accounts, message counts, latest messages. */
import { html } from 'hono/html'
import type { AccountStatus } from '../../../app/account-status.ts'
import { MAIL_STATUSES, type MailStatus, type OutboxEntry } from '../../../domain/mail/record.ts'
import { accountsTable, reauthorizeUrl } from './accounts-table.ts'
import { expiryBanners } from './expiry-banner.ts'
import { label, plural } from './format.ts'
import { type Markup, page } from './layout.ts'
import { messagesTable } from './messages-table.ts'
import { noticeFrom } from './notice.ts'

export interface ConsoleView {
  sandbox: boolean
  csrf: string
  accounts: AccountStatus[]
  messages: OutboxEntry[]
  counts: Record<MailStatus, number>
  /** Held messages per account (lower-case email). */
  held: Map<string, number>
  query: Record<string, string | undefined>
  /** Connected accounts whose Google access ends within 24 h, for the expiry banner. */
  expiring?: AccountStatus[]
  /** Epoch ms, by the service's clock. */
  now?: number
}

function reauthorizationBanners(view: ConsoleView): Markup[] {
  return view.accounts
    .filter((account) => account.status === 'reauthorization_required')
    .map((account) => {
      const held = view.held.get(account.email) ?? 0
      return html`<div class="banner" role="alert"><p><strong>${account.email}</strong> needs reauthorization: Google no longer accepts its token. ${held === 0 ? 'No message is held for it.' : `${plural(held, 'message')} ${held === 1 ? 'is' : 'are'} held for it and will go out once you reauthorize.`}</p><a class="button primary" href="${reauthorizeUrl(account.email)}">Reauthorize<span class="sr-only"> ${account.email}</span></a></div>`
    })
}

export function consolePage(view: ConsoleView): Markup {
  return page(
    {
      title: 'Console',
      sandbox: view.sandbox,
      section: 'console',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<h1>Console</h1>
${noticeFrom(view.query, view.accounts)}
${reauthorizationBanners(view)}
${expiryBanners(view.expiring ?? [], view.now ?? Date.now())}
<section class="card" aria-labelledby="accounts-heading">
<div class="card-head"><h2 id="accounts-heading">Accounts</h2><a class="button primary" href="/oauth/login">Connect an account</a></div>
${accountsTable(view.accounts, view.csrf)}
</section>
<section class="card" aria-labelledby="messages-heading">
<div class="card-head"><h2 id="messages-heading">Messages</h2><a class="button" href="/admin/messages">All messages</a></div>
<ul class="counts" aria-label="Messages by status">${MAIL_STATUSES.map(
      (status) =>
        html`<li><a class="count-${status}${(view.counts[status] ?? 0) === 0 ? ' zero' : ''}" href="/admin/messages?status=${status}"><span class="n">${view.counts[status] ?? 0}</span><span class="l">${label(status)}</span></a></li>`,
    )}</ul>
<h3>Latest</h3>
${messagesTable(view.messages, { csrf: view.csrf, back: '/admin', sandbox: view.sandbox, empty: 'No message has been accepted yet.' })}
</section>`,
  )
}
