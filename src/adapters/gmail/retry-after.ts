/**
 * The `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 */

/** Milliseconds to wait per `Retry-After`, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP-date names its day and month; bare numbers such as "-5" are not dates.
  if (!/[a-z]/i.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}

/** The `Retry-After` value of a fetch `Headers` or a plain header record. */
export function retryAfterHeader(headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined
  if ('get' in headers && typeof headers.get === 'function') {
    const value: unknown = headers.get('retry-after')
    return typeof value === 'string' ? value : undefined
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === 'retry-after') return typeof value === 'string' ? value : undefined
  }
  return undefined
}
