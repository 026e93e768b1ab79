/** The connected Google accounts, with their actions. */
import { html } from 'hono/html'
import type { AccountStatus } from '../../../app/account-status.ts'
import { scopeName, statusPill, when } from './format.ts'
import type { Markup } from './layout.ts'

/** `/oauth/login` for one account: Google preselects it (OpenID Connect `login_hint`). */
export function reauthorizeUrl(email: string): string {
  return `/oauth/login?login_hint=${encodeURIComponent(email)}`
}

function actions(account: AccountStatus, csrf: string): Markup {
  const makeDefault =
    account.isDefault || account.status === 'revoked'
      ? ''
      : html`<form class="inline" method="post" action="/admin/accounts/default"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="email" value="${account.email}"><button type="submit">Make default<span class="sr-only"> (${account.email})</span></button></form>`
  const reauthorize = html`<a class="button${account.status === 'connected' ? '' : ' primary'}" href="${reauthorizeUrl(account.email)}">${account.status === 'revoked' ? 'Connect again' : 'Reauthorize'}<span class="sr-only"> (${account.email})</span></a>`
  const disconnect =
    account.status === 'revoked'
      ? ''
      : html`<a class="button danger" href="/admin/accounts/disconnect?email=${encodeURIComponent(account.email)}">Disconnect<span class="sr-only"> (${account.email})</span></a>`
  return html`${makeDefault}${reauthorize}${disconnect}`
}

export function accountsTable(accounts: AccountStatus[], csrf: string): Markup {
  if (accounts.length === 0) {
    return html`<p class="empty">No Google account is connected yet. Connect one to start sending.</p>`
  }
  return html`<div class="table-wrap"><table class="accounts">
<caption class="table-note">The default account sends messages that do not name a sender.</caption>
<thead><tr><th scope="col">Account</th><th scope="col">Status</th><th scope="col">Scopes</th><th scope="col">Connected since</th><th scope="col">Last refresh</th><th scope="col">Google access ends</th><th scope="col">Actions</th></tr></thead>
<tbody>
${accounts.map(
  (account) => html`<tr>
<td><strong>${account.email}</strong>${account.isDefault ? html`<span class="tag">default</span>` : ''}</td>
<td class="state">${statusPill(account.status)}${account.lastError ? html`<div class="small error-text">Last error: <code>${account.lastError.code}</code> ${account.lastError.message}</div>` : ''}</td>
<td class="small">${account.scopes.map((scope, index) => html`${index > 0 ? ', ' : ''}<code title="${scope}">${scopeName(scope)}</code>`)}</td>
<td class="small">${when(account.connectedAt)}</td>
<td class="small">${when(account.lastRefreshAt) || html`<span class="muted">never</span>`}</td>
<td class="small">${when(account.expiresAt) || html`<span class="muted">no set end</span>`}</td>
<td class="actions">${actions(account, csrf)}</td>
</tr>`,
)}
</tbody></table></div>`
}
