/** Asks before disconnecting an account, since it revokes the token at Google. */
import { html } from 'hono/html'
import type { AccountStatus } from '../../../app/account-status.ts'
import { plural } from './format.ts'
import { type Markup, page } from './layout.ts'

export function disconnectPage(view: {
  sandbox: boolean
  csrf: string
  account: AccountStatus
  pending: number
}): Markup {
  const { account } = view
  return page(
    {
      title: `Disconnect ${account.email}`,
      sandbox: view.sandbox,
      section: 'console',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<div class="card narrow">
<h1>Disconnect ${account.email}?</h1>
<p>Its token is revoked at Google and forgotten here, so the service can no longer send from it. Its message history stays.${account.isDefault ? ' It is the default account: messages without a sender will be refused until another one is made the default.' : ''}</p>
${view.pending > 0 ? html`<div class="banner" role="note"><p>${plural(view.pending, 'message')} waiting for this account will be held until it is connected again.</p></div>` : ''}
<form method="post" action="/admin/accounts/disconnect" class="actions-bar">
<input type="hidden" name="csrf" value="${view.csrf}">
<input type="hidden" name="email" value="${account.email}">
<button class="danger" type="submit">Disconnect ${account.email}</button>
<a class="button" href="/admin">Keep it connected</a>
</form>
</div>`,
  )
}
