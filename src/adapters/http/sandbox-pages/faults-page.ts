/** The emulator's fault switches, so a person can watch the service cope. */
import { html, raw } from 'hono/html'
import { type Markup, page } from '../pages/layout.ts'
import { noticeFrom } from '../pages/notice.ts'
import type { FaultEndpoint, MailboxStats } from './mailbox-port.ts'

/** The errors offered, as Google would answer them. */
export const FAULT_STATUSES: ReadonlyArray<{ status: number; label: string }> = [
  { status: 429, label: '429 Too many requests' },
  { status: 500, label: '500 Internal error' },
  { status: 503, label: '503 Unavailable' },
  { status: 400, label: '400 Bad request (permanent)' },
]

/** The endpoints offered for faults, with what fails there. */
export const FAULT_ENDPOINTS: ReadonlyArray<{ endpoint: FaultEndpoint; label: string }> = [
  { endpoint: 'send', label: 'Gmail send (messages.send)' },
  { endpoint: 'upload', label: 'Gmail upload (messages over 5 MB)' },
  { endpoint: 'token', label: 'Token refresh' },
]

/** What was switched on from this page (the emulator does not report its own settings). */
export interface FaultSettings {
  rates: Map<FaultEndpoint, { percent: number; status: number }>
  quota?: number
}

function options<T extends string | number>(
  list: ReadonlyArray<{ value: T; label: string }>,
  selected?: T,
): Markup[] {
  return list.map(
    (item) =>
      html`<option value="${item.value}"${item.value === selected ? raw(' selected') : ''}>${item.label}</option>`,
  )
}

const endpointOptions = (selected?: FaultEndpoint) =>
  options(
    FAULT_ENDPOINTS.map((item) => ({ value: item.endpoint, label: item.label })),
    selected ?? 'send',
  )
const statusOptions = (selected?: number) =>
  options(
    FAULT_STATUSES.map((item) => ({ value: item.status, label: item.label })),
    selected ?? 503,
  )

export function faultsPage(view: {
  csrf: string
  accounts: string[]
  settings: FaultSettings
  stats: MailboxStats
  query: Record<string, string | undefined>
}): Markup {
  const csrf = html`<input type="hidden" name="csrf" value="${view.csrf}">`
  const rates = [...view.settings.rates.entries()]
  return page(
    {
      title: 'Faults',
      sandbox: true,
      section: 'faults',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<h1>Faults</h1>
${noticeFrom(
  view.query,
  view.accounts.map((email) => ({ email })),
)}
<p class="muted">Make the emulated Google misbehave, then watch the console: transient errors are retried with backoff, a revoked account holds its mail until you reauthorize it.</p>
<div class="grid">
<section class="card" aria-labelledby="revoke-heading">
<h2 id="revoke-heading">Revoke an account's token</h2>
<p class="small muted">As when the user removes the app's access in their Google Account: the refresh token stops working.</p>
${
  view.accounts.length === 0
    ? html`<p class="empty">No account is connected.</p>`
    : html`<form method="post" action="/admin/sandbox/faults/revoke" class="fields">${csrf}
<div><label for="revoke-email">Account</label><select id="revoke-email" name="email">${view.accounts.map((email) => html`<option>${email}</option>`)}</select></div>
<div><button class="danger" type="submit">Revoke token</button></div>
</form>`
}
</section>
<section class="card" aria-labelledby="inject-heading">
<h2 id="inject-heading">Fail the next requests</h2>
<p class="small muted">The next requests to the endpoint get this error, one each, in order.</p>
<form method="post" action="/admin/sandbox/faults/inject">${csrf}
<div class="fields">
<div><label for="inject-count">How many</label><input id="inject-count" name="count" type="number" min="1" max="100" value="3" required size="4"></div>
<div><label for="inject-status">Error</label><select id="inject-status" name="status">${statusOptions()}</select></div>
<div><label for="inject-endpoint">Endpoint</label><select id="inject-endpoint" name="endpoint">${endpointOptions()}</select></div>
</div>
<p><button class="primary" type="submit">Inject faults</button></p>
</form>
</section>
<section class="card" aria-labelledby="rate-heading">
<h2 id="rate-heading">Random faults</h2>
<p class="small muted">Each request to the endpoint fails with this probability.</p>
${
  rates.length === 0
    ? html`<p class="small">Now: <strong>off</strong>.</p>`
    : html`<p class="small">Now: ${rates.map(([endpoint, rate], index) => html`${index > 0 ? '; ' : ''}<strong>${rate.percent}%</strong> of ${endpoint} requests answer ${rate.status}`)}.</p>`
}
<form method="post" action="/admin/sandbox/faults/rate">${csrf}
<div class="fields">
<div><label for="rate-percent">Probability (%)</label><input id="rate-percent" name="percent" type="number" min="1" max="100" value="20" required size="4"></div>
<div><label for="rate-status">Error</label><select id="rate-status" name="status">${statusOptions()}</select></div>
<div><label for="rate-endpoint">Endpoint</label><select id="rate-endpoint" name="endpoint">${endpointOptions()}</select></div>
</div>
<p><button class="primary" type="submit">Set fault rate</button></p>
</form>
${rates.length === 0 ? '' : html`<form method="post" action="/admin/sandbox/faults/rate/clear">${csrf}<button type="submit">Turn random faults off</button></form>`}
</section>
<section class="card" aria-labelledby="quota-heading">
<h2 id="quota-heading">Per-user quota</h2>
<p class="small muted">Sends per account per minute before Gmail answers 429 userRateLimitExceeded.</p>
<p class="small">Now: <strong>${view.settings.quota === undefined ? 'no quota' : `${view.settings.quota} sends a minute`}</strong>.</p>
<form method="post" action="/admin/sandbox/faults/quota" class="fields">${csrf}
<div><label for="quota-rate">Sends per minute</label><input id="quota-rate" name="sendsPerMinute" type="number" min="0" max="100000" value="${view.settings.quota ?? 10}" required size="6"></div>
<div><button class="primary" type="submit">Set quota</button></div>
</form>
${view.settings.quota === undefined ? '' : html`<form method="post" action="/admin/sandbox/faults/quota/clear">${csrf}<p><button type="submit">Remove the quota</button></p></form>`}
</section>
</div>
<section class="card spaced" aria-labelledby="stats-heading">
<h2 id="stats-heading">What the emulator has seen</h2>
<div class="table-wrap"><table>
<thead><tr>${Object.keys(view.stats.calls).map((name) => html`<th scope="col" class="num">${name}</th>`)}<th scope="col" class="num">rate limited</th><th scope="col" class="num">faults played</th></tr></thead>
<tbody><tr>${Object.values(view.stats.calls).map((count) => html`<td class="num">${count}</td>`)}<td class="num">${view.stats.rateLimited}</td><td class="num">${view.stats.faultsInjected}</td></tr></tbody>
</table></div>
</section>`,
  )
}
