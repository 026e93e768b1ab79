/**
 * What a key's scope allows, decided from plain data: each check answers
 * undefined when allowed, else the sentence that names the rule and what
 * broke it (the caller sees it with `FORBIDDEN`). An absent field of the
 * scope does not limit. Comparisons ignore case; a recipient domain
 * (`@example.com`) matches that exact domain only, not its subdomains, so
 * that `@example.com` never lets `@evil.example.com` through.
 */
import { ServiceError } from '../errors.ts'
import { toAsciiDomain } from '../mail/domain-name.ts'
import type { KeyScope } from './api-key.ts'

/** The refusal of a call outside the key's scope (HTTP 403). */
export function outsideScope(sentence: string): ServiceError {
  return new ServiceError('FORBIDDEN', sentence)
}

const listed = (values: readonly string[]) => values.join(', ')

/** Whether the key may call the tRPC procedure `path` (`mail.send`, …). */
export function procedureRefusal(scope: KeyScope, path: string): string | undefined {
  if (scope.procedures === undefined || scope.procedures.includes(path)) return undefined
  return `This key may call only ${listed(scope.procedures)}; ${path} is outside it`
}

/** Whether the key may send as `account` (the sending account's address). */
export function senderRefusal(scope: KeyScope, account: string): string | undefined {
  if (scope.from === undefined) return undefined
  const wanted = comparableAddress(account)
  if (scope.from.some((allowed) => comparableAddress(allowed) === wanted)) return undefined
  return `This key may send only from ${listed(scope.from)}; from ${account} is outside it`
}

/**
 * An address (or `@domain`) in the form compared: lower case, its domain in
 * ASCII (`@bücher.de` and `@xn--bcher-kva.de` are one domain, the one the
 * message is sent to).
 */
export function comparableAddress(address: string): string {
  const at = address.lastIndexOf('@')
  const domain = address.slice(at + 1)
  return `${address.slice(0, at + 1)}${toAsciiDomain(domain) ?? domain}`.toLowerCase()
}

/** Whether `address` matches one entry of `recipients` (`a@b.c` exactly, or `@b.c`: that exact domain). */
export function recipientAllowed(recipients: readonly string[], address: string): boolean {
  const wanted = comparableAddress(address)
  const domain = wanted.slice(wanted.lastIndexOf('@'))
  return recipients.some((allowed) => {
    const entry = comparableAddress(allowed)
    return entry.startsWith('@') ? entry === domain : entry === wanted
  })
}

/** The first of every to, cc and bcc address (in that order) that the key may not send to. */
export function recipientRefusal(
  scope: KeyScope,
  envelope: { to: readonly string[]; cc: readonly string[]; bcc: readonly string[] },
): string | undefined {
  const { recipients } = scope
  if (recipients === undefined) return undefined
  for (const field of ['to', 'cc', 'bcc'] as const) {
    const outside = envelope[field].find((address) => !recipientAllowed(recipients, address))
    if (outside !== undefined)
      return `This key may send only to ${listed(recipients)}; ${field} ${outside} is outside it`
  }
  return undefined
}

/**
 * Whether a request with this `Origin` header (undefined: none) may use the
 * key. A key limited to origins is meant for pages in browsers, which send
 * `Origin` on every cross-origin call, so a request without one is refused
 * too: the key then fails loudly where it was copied to a server instead of
 * quietly working there. This is no defence against a script, which can
 * send any `Origin` it likes (see the README's "Keys and scopes").
 */
export function originRefusal(scope: KeyScope, origin: string | undefined): string | undefined {
  if (scope.origins === undefined) return undefined
  if (origin === undefined)
    return `This key may be used only from ${listed(scope.origins)}; the request carries no Origin header`
  const wanted = origin.toLowerCase()
  if (scope.origins.some((allowed) => allowed.toLowerCase() === wanted)) return undefined
  const shown = origin.length > 200 ? `${origin.slice(0, 200)}…` : origin
  return `This key may be used only from ${listed(scope.origins)}; the Origin ${shown} is outside it`
}

/**
 * Whether the key sees only the messages it accepted itself: a key limited
 * to some procedures is one app's key, not a team's full-access key.
 */
export function seesOnlyOwnMessages(scope: KeyScope | undefined): boolean {
  return scope?.procedures !== undefined
}
