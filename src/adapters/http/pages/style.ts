/**
 * The pages' one stylesheet, inlined (the CSP allows inline styles, no
 * external fetch). Light and dark schemes; focus always visible.
 */
export const STYLE = `
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--bg:#fff;--card:#fff;
--accent:#0b57d0;--accent-fg:#fff;--warn:#9a6700;--warn-bg:#fff8c5;--bad:#cf222e;--bad-bg:#ffebe9;--ok:#1a7f37;--ok-bg:#dafbe1;--info:#0969da;--info-bg:#ddf4ff}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--soft:#151b23;--bg:#0d1117;--card:#0d1117;
--accent:#4493f8;--accent-fg:#0d1117;--warn:#d29922;--warn-bg:#2e2a1a;--bad:#f85149;--bad-bg:#2d1619;--ok:#3fb950;--ok-bg:#12261e;--info:#58a6ff;--info-bg:#121d2f}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;color:var(--fg);background:var(--soft)}
a{color:var(--accent)}
.skip{position:absolute;left:-999px;top:0;background:var(--bg);padding:.5rem 1rem;z-index:2}.skip:focus{left:1rem}
.sandbox{background:var(--warn-bg);color:var(--fg);padding:.45rem 1.5rem;border-bottom:1px solid var(--warn);font-size:.9rem}
.top{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.5rem;background:var(--bg);border-bottom:1px solid var(--line)}
.brand{color:inherit;text-decoration:none;font-weight:700;font-size:1.05rem;white-space:nowrap}.mark{color:var(--accent)}
.top nav{display:flex;gap:.25rem;flex-wrap:wrap;flex:1}
.top nav a{color:var(--muted);text-decoration:none;padding:.35rem .7rem;border-radius:6px;font-weight:500}
.top nav a:hover{color:var(--fg);background:var(--soft)}.top nav a[aria-current=page]{color:var(--fg);background:var(--soft);box-shadow:inset 0 -2px 0 var(--accent)}
.signout{margin-left:auto}
main{max-width:1240px;margin:0 auto;padding:1.25rem 1.5rem 3rem}main:focus{outline:none}
h1{font-size:1.6rem;margin:.5rem 0 1rem;line-height:1.25;overflow-wrap:anywhere}h2{font-size:1.15rem;margin:0}h3{font-size:1rem;margin:1rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin:0 0 1.25rem}
.card-head{display:flex;align-items:center;justify-content:space-between;gap:1rem;flex-wrap:wrap;margin-bottom:.75rem}
.banner{display:flex;gap:1rem;align-items:center;justify-content:space-between;flex-wrap:wrap;border:1px solid var(--warn);background:var(--warn-bg);border-left-width:5px;padding:.7rem 1rem;margin:0 0 1rem;border-radius:6px}
.banner p{margin:0}.banner.error{border-color:var(--bad);background:var(--bad-bg)}.banner.success{border-color:var(--ok);background:var(--ok-bg)}.banner.info{border-color:var(--info);background:var(--info-bg)}
.table-wrap{overflow-x:auto;position:relative}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
tbody tr:last-child td{border-bottom:0}th{color:var(--muted);font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}td.actions{white-space:nowrap}td.actions>*{margin:0 .25rem .25rem 0}td.message{min-width:15rem;overflow-wrap:anywhere}td.error-cell{max-width:18rem}table.accounts td.actions{white-space:normal;min-width:13rem}table.accounts td.state{max-width:16rem}time{white-space:nowrap}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
caption.table-note{text-align:left;caption-side:bottom;padding-top:.5rem;color:var(--muted);font-size:.85rem}
.empty{color:var(--muted);padding:1rem 0;margin:0}
.status{display:inline-block;padding:.05rem .55rem;border-radius:999px;border:1px solid var(--line);font-size:.8rem;font-weight:600;white-space:nowrap;background:var(--soft)}
.status-sent,.status-connected{color:var(--ok);border-color:var(--ok);background:var(--ok-bg)}
.status-failed,.status-revoked{color:var(--bad);border-color:var(--bad);background:var(--bad-bg)}
.status-held,.status-reauthorization_required{color:var(--warn);border-color:var(--warn);background:var(--warn-bg)}
.status-queued,.status-sending,.status-scheduled{color:var(--info);border-color:var(--info);background:var(--info-bg)}
.tag{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .45rem;border-radius:4px;background:var(--accent);color:var(--accent-fg);margin-left:.4rem;vertical-align:1px}
button,.button{font:inherit;font-size:.9rem;font-weight:500;padding:.3rem .8rem;border-radius:6px;border:1px solid var(--line);background:var(--bg);color:var(--fg);cursor:pointer;text-decoration:none;display:inline-block;line-height:1.4}
button:hover,.button:hover{background:var(--soft)}
button.primary,.button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg)}
button.danger,.button.danger{color:var(--bad);border-color:var(--bad)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
form.inline{display:inline}
input,select{max-width:100%;font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:inherit}
label{display:block;font-weight:600;margin:.5rem 0 .25rem;font-size:.9rem}
fieldset{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem .7rem;margin:.75rem 0}legend{font-weight:600;font-size:.9rem;padding:0 .3rem}
label.check{display:inline-flex;gap:.35rem;align-items:center;font-weight:500;margin:.25rem 1rem .25rem 0}
pre.secret{font-size:1rem;user-select:all}
.fields{display:flex;gap:.75rem;align-items:flex-end;flex-wrap:wrap}.fields label{margin-top:0}.fields>div{display:flex;flex-direction:column;min-width:0;max-width:100%}
.muted{color:var(--muted)}.small{font-size:.85rem}code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem}
.error-text{color:var(--bad)}
pre{white-space:pre-wrap;word-break:break-all;background:var(--soft);border:1px solid var(--line);padding:.75rem;border-radius:6px;max-height:32rem;overflow:auto;margin:0}
.counts{display:flex;gap:.5rem;flex-wrap:wrap;list-style:none;padding:0;margin:0 0 1rem}
.counts a{display:flex;flex-direction:column;min-width:6.5rem;border:1px solid var(--line);border-radius:8px;padding:.45rem .8rem;text-decoration:none;color:var(--fg);background:var(--bg)}
.counts a:hover{border-color:var(--accent)}.counts a.zero .n{color:var(--muted);font-weight:500}.counts a.count-held:not(.zero){border-color:var(--warn);background:var(--warn-bg)}.counts a.count-failed:not(.zero){border-color:var(--bad);background:var(--bad-bg)}.counts a.count-sent:not(.zero) .n{color:var(--ok)}.counts .n{font-size:1.35rem;font-weight:700;font-variant-numeric:tabular-nums}.counts .l{font-size:.8rem;color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1.25rem;margin:0}dl.facts dt{color:var(--muted);font-weight:600;font-size:.9rem}dl.facts dd{margin:0;overflow-wrap:anywhere}
ol.timeline{list-style:none;margin:0;padding:0 0 0 1rem;border-left:2px solid var(--line)}
ol.timeline li{position:relative;padding:.2rem 0 .8rem .75rem}ol.timeline li::before{content:"";position:absolute;left:-1.45rem;top:.55rem;width:.7rem;height:.7rem;border-radius:50%;background:var(--bg);border:2px solid var(--muted)}
ol.timeline li.sent::before{border-color:var(--ok);background:var(--ok)}ol.timeline li.failed::before{border-color:var(--bad);background:var(--bad)}ol.timeline li.held::before,ol.timeline li.retry::before{border-color:var(--warn)}
.pager{display:flex;gap:.5rem;justify-content:flex-end;margin-top:.75rem}
.actions-bar{display:flex;gap:.5rem;flex-wrap:wrap;margin:0 0 1rem}
iframe{width:100%;min-height:26rem;border:1px solid var(--line);border-radius:6px;background:#fff}
.spaced{margin-top:1.25rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1.25rem}.grid>.card{margin:0}
.narrow{max-width:40rem;margin:2rem auto}.signin{max-width:26rem;margin:3rem auto}.signin input{width:100%}
@media (max-width:640px){.top{flex-wrap:wrap;gap:.5rem;padding:.6rem 1rem}.top nav{order:3;flex-basis:100%}main{padding:1rem .75rem 2rem}.card{padding:.85rem}.sandbox{padding:.45rem 1rem}}
`
