/** The pages of `/oauth/callback` when it cannot connect an account. */
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
    html`<h1>${options.title}</h1>
<div class="banner error" role="alert"><p>${options.message}</p></div>
<p>No stored credential was changed.</p>
<p><a class="button primary" href="${options.retryUrl}">Try again</a> <a class="button" href="/admin">Back to the console</a></p>`,
  )
}
