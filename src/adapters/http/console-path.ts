/**
 * Where a redirect back into the console may go (no open redirect, RFC 9700
 * §4.11; RFC 3986 §5.2.4 for dot segments). The path is judged as a browser
 * would resolve it: percent-encoding decoded (repeatedly, so `%252e` is no
 * way round), dot segments removed, and only then compared with the allowed
 * prefixes. What comes back is the normalised path, so the browser is sent
 * exactly where the check looked.
 */

const VISIBLE_ASCII = /^[\x21-\x7e]*$/
const ORIGIN = 'http://console.invalid'

/**
 * The normalised same-origin path (and query) of `value` when it resolves
 * under one of `roots` (`/admin` matches `/admin`, `/admin/…` and
 * `/admin?…`), else `undefined`.
 */
export function consolePath(value: unknown, roots: readonly string[]): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return undefined
  // Browsers read a backslash as a slash (WHATWG URL), so `/\evil.example` is `//evil.example`.
  if (!value.startsWith('/') || !VISIBLE_ASCII.test(value) || value.includes('\\')) return undefined
  const cut = value.search(/[?#]/)
  const rawPath = cut === -1 ? value : value.slice(0, cut)
  const query = cut === -1 || value[cut] === '#' ? '' : value.slice(cut).replace(/#.*$/, '')
  const path = fullyDecoded(rawPath)
  if (path === undefined || !VISIBLE_ASCII.test(path) || /[\\?#]/.test(path)) return undefined
  if (path.startsWith('//')) return undefined
  let url: URL
  try {
    url = new URL(path, ORIGIN)
  } catch {
    return undefined
  }
  if (url.origin !== ORIGIN || url.pathname.includes('//')) return undefined
  const resolved = url.pathname
  const allowed = roots.some((root) => resolved === root || resolved.startsWith(`${root}/`))
  return allowed ? `${resolved}${query}` : undefined
}

/** Percent-decoding until nothing changes (at most a few rounds); `undefined` when malformed. */
function fullyDecoded(path: string): string | undefined {
  let current = path
  for (let round = 0; round < 4; round++) {
    let next: string
    try {
      next = decodeURIComponent(current)
    } catch {
      return undefined
    }
    if (next === current) return current
    current = next
  }
  return undefined
}
