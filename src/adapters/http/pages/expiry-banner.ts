/**
 * The console's warning before Google ends an account's refresh token
 * (an app in Testing, a time-limited grant): from 24 h before the deadline
 * until a reauthorization moves it, with the link that does so.
 */
import { html } from 'hono/html'
import type { AccountStatus } from '../../../app/account-status.ts'
import { reauthorizeUrl } from './accounts-table.ts'
import { when } from './format.ts'
import type { Markup } from './layout.ts'

/** One banner per expiring account (`expiring`: connected, deadline within 24 h); `now` in epoch ms. */
export function expiryBanners(expiring: readonly AccountStatus[], now: number): Markup[] {
  return expiring
    .filter((account) => account.expiresAt !== undefined)
    .map((account) => {
      const deadline = account.expiresAt!
      const text =
        Date.parse(deadline) > now
          ? html`<strong>${account.email}</strong> must be reauthorized before ${when(deadline)}: Google ends this app's access then, and its mail is held from that moment until you reauthorize.`
          : html`<strong>${account.email}</strong> had to be reauthorized before ${when(deadline)}: Google has ended this app's access; its next message is held until you reauthorize.`
      return html`<div class="banner expiring" role="alert"><p>${text}</p><a class="button primary" href="${reauthorizeUrl(account.email)}">Reauthorize<span class="sr-only"> ${account.email}</span></a></div>`
    })
}
