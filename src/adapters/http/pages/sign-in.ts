/** The admin's sign-in form. */
import { html } from 'hono/html'
import { type Markup, page } from './layout.ts'

export function signInPage(options: { sandbox: boolean; error?: string; next?: string }): Markup {
  return page(
    { title: 'Sign in', sandbox: options.sandbox },
    html`<div class="card signin">
<h1>Sign in</h1>
${options.error ? html`<div class="banner error" role="alert"><p>${options.error}</p></div>` : ''}
<form method="post" action="/admin/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus aria-describedby="token-help">
<p id="token-help" class="muted small">${options.sandbox ? 'The sandbox printed its admin token when it started.' : 'The value of ADMIN_TOKEN.'}</p>
<input type="hidden" name="next" value="${options.next ?? '/admin'}">
<p><button class="primary" type="submit">Sign in</button></p>
</form>
</div>`,
  )
}
