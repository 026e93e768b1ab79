/**
 * One message of the sandbox mailbox: its envelope, its HTML in a sandboxed
 * frame (no script, opaque origin; the page's CSP still blocks any remote
 * fetch, so nothing leaves the machine), its text, attachments and source.
 */
import { html } from 'hono/html'
import { bytes, when } from '../pages/format.ts'
import { type Markup, page } from '../pages/layout.ts'
import type { MailboxMessage } from './mailbox-port.ts'
import { type DisplayMessage, inlineContentIds } from './mime-parse.ts'

/** Past this the source is cut on the page; the download has all of it. */
const SOURCE_SHOWN = 256 * 1024

function addressRow(name: string, list: string[]): Markup | string {
  return list.length === 0 ? '' : html`<dt>${name}</dt><dd>${list.join(', ')}</dd>`
}

export function receivedMessagePage(view: {
  csrf: string
  message: MailboxMessage
  display: DisplayMessage
}): Markup {
  const { message, display } = view
  const base = `/admin/sandbox/mailbox/${encodeURIComponent(message.id)}`
  const subject = message.subject.trim() === '' ? '(no subject)' : message.subject
  const source = new TextDecoder().decode(message.raw.subarray(0, SOURCE_SHOWN))
  return page(
    {
      title: `${subject} · Sandbox mailbox`,
      sandbox: true,
      section: 'mailbox',
      ...(view.csrf ? { signOut: { csrf: view.csrf } } : {}),
    },
    html`<p class="small"><a href="/admin/sandbox/mailbox">← Sandbox mailbox</a></p>
<h1>${subject}</h1>
<section class="card" aria-labelledby="envelope-heading">
<h2 id="envelope-heading" class="sr-only">Envelope</h2>
<dl class="facts">
<dt>From</dt><dd>${message.from}</dd>
${addressRow('To', message.to)}${addressRow('Cc', message.cc)}${addressRow('Bcc', message.bcc)}
<dt>Received</dt><dd>${when(message.receivedAt)}</dd>
<dt>Size</dt><dd>${bytes(message.size)}</dd>
<dt>Sent by account</dt><dd>${message.account}</dd>
${message.messageIdHeader === undefined ? '' : html`<dt>Message-ID</dt><dd class="mono">${message.messageIdHeader}</dd>`}
<dt>Gmail ids</dt><dd class="mono">message ${message.id} · thread ${message.threadId}</dd>
</dl>
</section>
${
  display.html === undefined
    ? ''
    : html`<section class="card" aria-labelledby="html-heading">
<h2 id="html-heading">HTML</h2>
<p class="muted small">Shown in a sandboxed frame: no script runs and no remote image or font is fetched.</p>
<iframe sandbox title="HTML body of the message" srcdoc="${inlineContentIds(display.html, display.attachments)}"></iframe>
</section>`
}
${
  display.text === undefined
    ? ''
    : html`<section class="card" aria-labelledby="text-heading">
<h2 id="text-heading">Text</h2>
<pre>${display.text}</pre>
</section>`
}
${
  display.attachments.length === 0
    ? ''
    : html`<section class="card" aria-labelledby="attachments-heading">
<h2 id="attachments-heading">Attachments</h2>
<ul>${display.attachments.map(
        (attachment, index) =>
          html`<li><a href="${base}/attachments/${index}" download>${attachment.filename}</a> <span class="muted small">${attachment.contentType}, ${bytes(attachment.bytes.length)}${attachment.contentId ? html`, inline <code>cid:${attachment.contentId}</code>` : ''}</span></li>`,
      )}</ul>
</section>`
}
<section class="card" aria-labelledby="source-heading">
<div class="card-head"><h2 id="source-heading">Raw source</h2><a class="button" href="${base}/raw" download>Download .eml</a></div>
<pre>${source}${message.raw.length > SOURCE_SHOWN ? '\n[…cut; download the .eml for the rest]' : ''}</pre>
</section>`,
  )
}
