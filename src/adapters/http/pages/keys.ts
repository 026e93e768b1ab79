/** The console's API keys: the list, revocation, and the form that makes one. */
import { html } from 'hono/html'
import type { ApiKeyView } from '../../../app/api-keys/admin.ts'
import type { KeyScope } from '../../../domain/api-keys/api-key.ts'
import { KEY_PROCEDURES } from '../../../domain/api-keys/scope-schema.ts'
import { when } from './format.ts'
import { type Markup, page } from './layout.ts'
import { noticeFrom } from './notice.ts'

/** The procedures a scope may name, in the order the form offers them. */
export const SCOPABLE_PROCEDURES = KEY_PROCEDURES

export interface KeysView {
  sandbox: boolean
  csrf: string
  keys: ApiKeyView[]
  query: Record<string, string | undefined>
  /** A refusal of the create form, in the service's words. */
  error?: string
}

/** A scope in a few words: what limits the key. */
export function scopeSummary(scope: KeyScope): Markup {
  const parts: Markup[] = []
  if (scope.procedures?.length)
    parts.push(html`<div>may call <code>${scope.procedures.join(', ')}</code></div>`)
  if (scope.from?.length) parts.push(html`<div>sends as ${scope.from.join(', ')}</div>`)
  if (scope.recipients?.length) parts.push(html`<div>only to ${scope.recipients.join(', ')}</div>`)
  if (scope.origins?.length) parts.push(html`<div>from pages on ${scope.origins.join(', ')}</div>`)
  if (scope.ratePerMinute !== undefined) parts.push(html`<div>${scope.ratePerMinute} requests a minute</div>`)
  return parts.length === 0 ? html`<span class="muted">full access</span>` : html`${parts}`
}

function revokeForm(key: ApiKeyView, csrf: string): Markup | string {
  if (key.source === 'config') return html`<span class="muted small">set in API_KEYS</span>`
  if (key.revokedAt !== undefined) return ''
  return html`<form class="inline" method="post" action="/admin/keys/revoke"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="id" value="${key.id}"><button class="danger" type="submit">Revoke<span class="sr-only"> ${key.name}</span></button></form>`
}

function keysTable(keys: ApiKeyView[], csrf: string): Markup {
  if (keys.length === 0) return html`<p class="empty">No API key yet.</p>`
  return html`<div class="table-wrap"><table class="keys">
<thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Scope</th><th scope="col">Made</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
<tbody>
${keys.map(
  (key) => html`<tr>
<td><strong>${key.name}</strong>${key.source === 'config' ? html`<span class="tag">config</span>` : ''}</td>
<td class="small"><code>${key.id}</code></td>
<td class="small">${scopeSummary(key.scope)}</td>
<td class="small">${when(key.createdAt)}</td>
<td class="small">${when(key.lastUsedAt) || html`<span class="muted">never</span>`}</td>
<td>${key.revokedAt === undefined ? html`<span class="status status-connected">active</span>` : html`<span class="status status-revoked">revoked</span> <span class="small">${when(key.revokedAt)}</span>`}</td>
<td class="actions">${revokeForm(key, csrf)}</td>
</tr>`,
)}
</tbody></table></div>`
}

function createForm(csrf: string): Markup {
  return html`<form method="post" action="/admin/keys">
<input type="hidden" name="csrf" value="${csrf}">
<label for="key-name">Name</label>
<input id="key-name" name="name" required maxlength="100" placeholder="Contact form on shop.example">
<fieldset class="spaced"><legend>Procedures it may call <span class="muted small">(none ticked: every mail procedure and accounts.list)</span></legend>
${SCOPABLE_PROCEDURES.map((procedure) => html`<label class="check"><input type="checkbox" name="procedures" value="${procedure}"> <code>${procedure}</code></label>`)}
</fieldset>
<label for="key-from">Sending accounts <span class="muted small">(comma-separated; empty: any)</span></label>
<input id="key-from" name="from" placeholder="support@example.com">
<label for="key-recipients">Recipients <span class="muted small">(addresses or @domain; empty: anyone)</span></label>
<input id="key-recipients" name="recipients" placeholder="support@example.com, @example.com">
<label for="key-origins">Browser origins <span class="muted small">(empty: not limited)</span></label>
<input id="key-origins" name="origins" placeholder="https://shop.example">
<label for="key-rate">Requests a minute <span class="muted small">(empty: the service's limit)</span></label>
<input id="key-rate" name="ratePerMinute" type="number" min="1" max="1000000">
<p><button class="primary" type="submit">Make the key</button></p>
</form>`
}

export function keysPage(view: KeysView): Markup {
  return page(
    {
      title: 'API keys',
      sandbox: view.sandbox,
      section: 'keys',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<h1>API keys</h1>
${noticeFrom(view.query)}
${view.error === undefined ? '' : html`<div class="banner error" role="alert"><p>${view.error}</p></div>`}
<section class="card" aria-labelledby="keys-heading">
<div class="card-head"><h2 id="keys-heading">Keys</h2></div>
${keysTable(view.keys, view.csrf)}
</section>
<section class="card" aria-labelledby="new-key-heading">
<div class="card-head"><h2 id="new-key-heading">Make a key</h2></div>
<p class="small muted">A key for a web page should name its procedures (<code>mail.send</code>), its sending account, its recipients, its origin and a small rate: anyone can read a key a page carries, and an origin check does not stop a script that forges <code>Origin</code>. The recipients and the rate are what protect you.</p>
${createForm(view.csrf)}
</section>`,
  )
}

/** Shown once, right after a key or a webhook secret is made: never again. */
export function secretShownOncePage(options: {
  sandbox: boolean
  csrf: string
  section: 'keys' | 'webhooks'
  title: string
  what: string
  secret: string
  back: string
}): Markup {
  return page(
    {
      title: options.title,
      sandbox: options.sandbox,
      section: options.section,
      ...(options.csrf ? { signOut: { csrf: options.csrf } } : {}),
    },
    html`<div class="card narrow">
<h1>${options.title}</h1>
<div class="banner success" role="status"><p>Copy the ${options.what} now: it is shown only this once, and the service keeps no copy it could show again.</p></div>
<label for="secret">${options.what}</label>
<pre id="secret" class="secret" tabindex="0">${options.secret}</pre>
<p class="spaced"><a class="button primary" href="${options.back}">Done</a></p>
</div>`,
  )
}
