/**
 * The look shared by every page: server-rendered with Hono's `html`
 * template (escaped by default), no build step, no script needed.
 */
import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'

export type Markup = HtmlEscapedString | Promise<HtmlEscapedString>

export interface PageOptions {
  title: string
  sandbox: boolean
  /** Shown at the top right when the admin is signed in. */
  signOut?: { csrf: string }
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--accent:#0b57d0;--warn:#9a6700;--bad:#cf222e;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--bg:#0d1117;--accent:#4c8df6;--warn:#d29922;--bad:#f85149;--ok:#3fb950}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1rem;align-items:center;justify-content:space-between;padding:.75rem 1.5rem;border-bottom:1px solid var(--line)}
header a{color:inherit;text-decoration:none;font-weight:600}nav{display:flex;gap:1rem;align-items:center}
main{max-width:1100px;margin:0 auto;padding:1.25rem 1.5rem}
.sandbox{background:#fff8c5;color:#4d2d00;padding:.5rem 1.5rem;border-bottom:1px solid #d4a72c;font-weight:600}
.banner{border:1px solid var(--warn);border-left-width:6px;padding:.75rem 1rem;margin:1rem 0;border-radius:6px}
.error{border-color:var(--bad)}.success{border-color:var(--ok)}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:.85rem}
.status{display:inline-block;padding:0 .5rem;border-radius:999px;border:1px solid var(--line);font-size:.85rem}
.status-sent,.status-connected{color:var(--ok);border-color:var(--ok)}.status-failed,.status-revoked{color:var(--bad);border-color:var(--bad)}
.status-held,.status-reauthorization_required{color:var(--warn);border-color:var(--warn)}
button,.button{font:inherit;padding:.35rem .8rem;border-radius:6px;border:1px solid var(--line);background:transparent;color:inherit;cursor:pointer;text-decoration:none;display:inline-block}
button.primary,.button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
form.inline{display:inline}input,select{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;background:transparent;color:inherit}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}.muted{color:var(--muted)}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
pre{white-space:pre-wrap;word-break:break-all;border:1px solid var(--line);padding:.75rem;border-radius:6px;max-height:32rem;overflow:auto}
.counts{display:flex;gap:.75rem;flex-wrap:wrap;list-style:none;padding:0}.counts li{border:1px solid var(--line);border-radius:6px;padding:.4rem .8rem}
iframe{width:100%;min-height:24rem;border:1px solid var(--line);border-radius:6px;background:#fff}
`

/** A whole page. Every page says, in sandbox mode, that nothing leaves the machine. */
export function page(options: PageOptions, body: Markup): Markup {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Gmail sender</title>
<style>${STYLE}</style>
</head>
<body>
${options.sandbox ? html`<div class="sandbox" role="note">Sandbox mode: Google is emulated on this machine; nothing leaves the machine.</div>` : ''}
<header>
<a href="/admin">Gmail sender</a>
<nav aria-label="Main">
<a href="/admin">Console</a>
${options.sandbox ? html`<a href="/admin/sandbox/mailbox">Sandbox mailbox</a><a href="/admin/sandbox/faults">Faults</a>` : ''}
${options.signOut ? html`<form class="inline" method="post" action="/admin/logout"><input type="hidden" name="csrf" value="${options.signOut.csrf}"><button type="submit">Sign out</button></form>` : ''}
</nav>
</header>
<main id="main">
${body}
</main>
</body>
</html>`
}
