/**
 * The look shared by every page: server-rendered with Hono's `html`
 * template (escaped by default), no build step, no script needed.
 */
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { STYLE } from './style.ts'

export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>

/** The console's sections, to mark the current one in the navigation. */
export type Section = 'console' | 'messages' | 'keys' | 'webhooks' | 'mailbox' | 'faults'

export interface PageOptions {
  title: string
  sandbox: boolean
  /** Shown at the top right when the admin is signed in. */
  signOut?: { csrf: string }
  /** Shows the navigation, with this section marked current. */
  section?: Section
}

const SECTIONS: Array<{ id: Section; href: string; label: string; sandboxOnly: boolean }> = [
  { id: 'console', href: '/admin', label: 'Console', sandboxOnly: false },
  { id: 'messages', href: '/admin/messages', label: 'Messages', sandboxOnly: false },
  { id: 'keys', href: '/admin/keys', label: 'API keys', sandboxOnly: false },
  { id: 'webhooks', href: '/admin/webhooks', label: 'Webhooks', sandboxOnly: false },
  { id: 'mailbox', href: '/admin/sandbox/mailbox', label: 'Sandbox mailbox', sandboxOnly: true },
  { id: 'faults', href: '/admin/sandbox/faults', label: 'Faults', sandboxOnly: true },
]

function navigation(options: PageOptions): Markup | string {
  if (options.section === undefined && !options.signOut) return ''
  const links = SECTIONS.filter((section) => options.sandbox || !section.sandboxOnly).map(
    (section) =>
      html`<a href="${section.href}"${section.id === options.section ? raw(' aria-current="page"') : ''}>${section.label}</a>`,
  )
  return html`<nav aria-label="Main">${links}</nav>`
}

/** A whole page. Every page says, in sandbox mode, that nothing leaves the machine. */
export function page(options: PageOptions, body: Markup): Markup {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Gmail sender</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${options.sandbox ? html`<div class="sandbox" role="note"><strong>Sandbox mode</strong>: Google is emulated on this machine; nothing leaves the machine.</div>` : ''}
<header class="top">
<a class="brand" href="/admin"><span class="mark" aria-hidden="true">✉</span> Gmail sender</a>
${navigation(options)}
${options.signOut ? html`<form class="inline signout" method="post" action="/admin/logout"><input type="hidden" name="csrf" value="${options.signOut.csrf}"><button type="submit">Sign out</button></form>` : ''}
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`
}
