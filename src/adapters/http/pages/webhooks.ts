/** The console's webhook endpoints: the list, the form that registers one, deletion. */
import { html, raw } from 'hono/html'
import type { WebhookAttemptView, WebhookEndpointView } from '../../../app/webhooks/admin.ts'
import { EVENT_TYPES } from '../../../domain/webhooks/event.ts'
import { when } from './format.ts'
import { type Markup, page } from './layout.ts'
import { noticeFrom } from './notice.ts'

export interface WebhooksView {
  sandbox: boolean
  csrf: string
  endpoints: WebhookEndpointView[]
  query: Record<string, string | undefined>
  error?: string
}

/** An attempt's outcome in a few words: the HTTP status, or why there was none. */
export function attemptOutcome(attempt: WebhookAttemptView): Markup {
  const what = attempt.status !== undefined ? `HTTP ${attempt.status}` : (attempt.error ?? 'no answer')
  return html`<span class="status ${attempt.ok ? 'status-sent' : 'status-failed'}">${what}</span>`
}

function endpointState(endpoint: WebhookEndpointView): Markup {
  if (endpoint.disabledAt === undefined) return html`<span class="status status-connected">active</span>`
  return html`<span class="status status-revoked">disabled</span><div class="small">${endpoint.disabledReason ?? ''} ${when(endpoint.disabledAt)}</div>`
}

function endpointsTable(endpoints: WebhookEndpointView[], csrf: string): Markup {
  if (endpoints.length === 0) return html`<p class="empty">No endpoint yet: events are not sent anywhere.</p>`
  return html`<div class="table-wrap"><table class="webhooks">
<thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Last delivery</th><th scope="col">Actions</th></tr></thead>
<tbody>
${endpoints.map(
  (endpoint) => html`<tr>
<td class="message"><a href="/admin/webhooks/${encodeURIComponent(endpoint.id)}"><code>${endpoint.url}</code></a><div class="small muted"><code>${endpoint.id}</code></div></td>
<td class="small">${endpoint.events.length === 0 ? html`<span class="muted">all</span>` : html`<code>${endpoint.events.join(', ')}</code>`}</td>
<td>${endpointState(endpoint)}</td>
<td class="small">${endpoint.lastDelivery === undefined ? html`<span class="muted">none yet</span>` : html`${attemptOutcome(endpoint.lastDelivery)} <code>${endpoint.lastDelivery.eventType}</code> ${when(endpoint.lastDelivery.at)}`}</td>
<td class="actions"><a class="button" href="/admin/webhooks/${encodeURIComponent(endpoint.id)}">Deliveries<span class="sr-only"> to ${endpoint.url}</span></a><form class="inline" method="post" action="/admin/webhooks/delete"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="id" value="${endpoint.id}"><button class="danger" type="submit">Delete<span class="sr-only"> ${endpoint.url}</span></button></form></td>
</tr>`,
)}
</tbody></table></div>`
}

function createForm(csrf: string): Markup {
  return html`<form method="post" action="/admin/webhooks">
<input type="hidden" name="csrf" value="${csrf}">
<label for="webhook-url">URL</label>
<input id="webhook-url" name="url" type="url" required maxlength="2000" placeholder="https://app.example/hooks/mail" size="50">
<fieldset class="spaced"><legend>Events <span class="muted small">(none ticked: all)</span></legend>
${EVENT_TYPES.map((type) => html`<label class="check"><input type="checkbox" name="events" value="${type}"> <code>${type}</code></label>`)}
</fieldset>
<p><button class="primary" type="submit">Add the endpoint</button></p>
</form>`
}

export function webhooksPage(view: WebhooksView): Markup {
  return page(
    {
      title: 'Webhooks',
      sandbox: view.sandbox,
      section: 'webhooks',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<h1>Webhooks</h1>
${noticeFrom(view.query)}
${view.error === undefined ? '' : html`<div class="banner error" role="alert"><p>${view.error}</p></div>`}
<section class="card" aria-labelledby="endpoints-heading">
<div class="card-head"><h2 id="endpoints-heading">Endpoints</h2></div>
${endpointsTable(view.endpoints, view.csrf)}
<p class="table-note">Each event is signed in the Standard Webhooks format and retried with backoff for at least 24 hours until the endpoint answers 2xx; an answer of 410 disables the endpoint.</p>
</section>
<section class="card" aria-labelledby="new-endpoint-heading">
<div class="card-head"><h2 id="new-endpoint-heading">Add an endpoint</h2></div>
${createForm(view.csrf)}
</section>`,
  )
}

export interface DeliveriesView {
  sandbox: boolean
  csrf: string
  endpoint: WebhookEndpointView
  attempts: WebhookAttemptView[]
  query: Record<string, string | undefined>
}

export function deliveriesPage(view: DeliveriesView): Markup {
  const { endpoint } = view
  return page(
    {
      title: `Deliveries to ${endpoint.url}`,
      sandbox: view.sandbox,
      section: 'webhooks',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<h1>Deliveries <span class="muted">· <code>${endpoint.url}</code></span></h1>
${noticeFrom(view.query)}
<section class="card" aria-labelledby="endpoint-heading">
<div class="card-head"><h2 id="endpoint-heading">Endpoint</h2><a class="button" href="/admin/webhooks">All endpoints</a></div>
<dl class="facts"><dt>Id</dt><dd><code>${endpoint.id}</code></dd><dt>Events</dt><dd>${endpoint.events.length === 0 ? 'all' : endpoint.events.join(', ')}</dd><dt>Status</dt><dd>${endpointState(endpoint)}</dd><dt>Added</dt><dd>${when(endpoint.createdAt)}</dd></dl>
</section>
<section class="card" aria-labelledby="attempts-heading">
<div class="card-head"><h2 id="attempts-heading">Recent attempts</h2></div>
${
  view.attempts.length === 0
    ? html`<p class="empty">Nothing has been sent to this endpoint yet.</p>`
    : html`<div class="table-wrap"><table class="attempts">
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col" class="num">Took</th><th scope="col">Actions</th></tr></thead>
<tbody>
${view.attempts.map(
  (attempt) => html`<tr>
<td class="small">${when(attempt.at)}</td>
<td class="small"><code>${attempt.eventType}</code><div class="muted"><code>${attempt.eventId}</code></div></td>
<td>${attemptOutcome(attempt)}</td>
<td class="num small">${raw(String(Math.round(attempt.durationMs)))} ms</td>
<td class="actions"><form class="inline" method="post" action="/admin/webhooks/replay"><input type="hidden" name="csrf" value="${view.csrf}"><input type="hidden" name="id" value="${endpoint.id}"><input type="hidden" name="eventId" value="${attempt.eventId}"><button type="submit">Replay<span class="sr-only"> ${attempt.eventId}</span></button></form></td>
</tr>`,
)}
</tbody></table></div>`
}
</section>`,
  )
}
