/** The pages of `/oauth/callback` when it cannot connect an account, in the console's look. */
import { html } from 'hono/html'
import { type Markup, page } from './layout.ts'

export function oauthFailurePage(options: {
  sandbox: boolean
  title: string
  message: string
  retryUrl: string
}): Markup {
  return page(
    { title: options.title, sandbox: options.sandbox },
    html`<div class="card narrow">
<h1>${options.title}</h1>
<div class="banner error" role="alert"><p>${options.message}</p></div>
<p>No stored credential was changed: accounts that were connected still are, and held mail stays held.</p>
<p class="actions-bar"><a class="button primary" href="${options.retryUrl}">Try again</a> <a class="button" href="/admin">Back to the console</a></p>
</div>`,
  )
}
