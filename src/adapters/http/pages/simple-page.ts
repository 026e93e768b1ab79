/** A page that says one thing and offers a way on: refusals, errors, not found. */
import { html } from 'hono/html'
import { type Markup, page } from './layout.ts'

export function simplePage(options: {
  sandbox: boolean
  title: string
  message: string
  /** Where "Back" goes. */
  back: string
  backLabel?: string
  tone?: 'error' | 'info'
}): Markup {
  return page(
    { title: options.title, sandbox: options.sandbox },
    html`<div class="card narrow">
<h1>${options.title}</h1>
<div class="banner ${options.tone ?? 'error'}" role="${options.tone === 'info' ? 'status' : 'alert'}"><p>${options.message}</p></div>
<p><a class="button primary" href="${options.back}">${options.backLabel ?? 'Back to the console'}</a></p>
</div>`,
  )
}
