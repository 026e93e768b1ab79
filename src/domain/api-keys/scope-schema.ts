/**
 * A `KeyScope` as the admin writes it (`admin.keys.create`, the console's
 * form), checked and put in the one form the checks of `scope.ts` compare
 * against: addresses and domains lower-cased (an internationalized domain
 * in its ASCII form, as `toMail` gives it), origins exactly as a browser
 * sends them. Strict: an unknown field is refused rather than dropped, so
 * that a misspelt restriction never leaves a key wider than meant.
 */
import { z } from 'zod'
import { isServiceError } from '../errors.ts'
import { parseMailbox } from '../mail/address.ts'
import type { KeyScope } from './api-key.ts'
import { comparableAddress } from './scope.ts'

/** The procedures a key may be limited to: the contract's `mail.*` and `accounts.list`. */
export const KEY_PROCEDURES = [
  'mail.send',
  'mail.sendBatch',
  'mail.get',
  'mail.list',
  'mail.cancel',
  'mail.retry',
  'accounts.list',
] as const

/** The largest `ratePerMinute` a key may have (100 requests a second). */
export const MAX_KEY_RATE_PER_MINUTE = 6_000

/** The address `text` names, lower-cased, when it is one bare address (no display name); else why not. */
function bareAddress(text: string): { address: string } | { refusal: string } {
  try {
    const mailbox = parseMailbox(text)
    if (mailbox.name !== undefined || text.includes('<'))
      return { refusal: `write the bare address, without a name or <>: ${JSON.stringify(text)}` }
    return { address: comparableAddress(mailbox.address) }
  } catch (error) {
    if (isServiceError(error)) return { refusal: error.message }
    throw error
  }
}

const address = z.string().transform((text, context) => {
  const parsed = bareAddress(text.trim())
  if ('address' in parsed) return parsed.address
  context.addIssue({ code: 'custom', message: parsed.refusal })
  return z.NEVER
})

/** `a@b.c` (that address) or `@b.c` (any address at exactly that domain). */
const recipient = z.string().transform((text, context) => {
  const trimmed = text.trim()
  if (!trimmed.startsWith('@')) {
    const parsed = bareAddress(trimmed)
    if ('address' in parsed) return parsed.address
    context.addIssue({ code: 'custom', message: `${parsed.refusal} (write a@example.com or @example.com)` })
    return z.NEVER
  }
  const parsed = trimmed.includes('@', 1) ? undefined : bareAddress(`x${trimmed}`)
  if (parsed !== undefined && 'address' in parsed) return parsed.address.slice(1)
  context.addIssue({ code: 'custom', message: `Not a domain: ${JSON.stringify(text)} (write @example.com)` })
  return z.NEVER
})

/** `scheme://host[:port]`, as the browser's `Origin` header carries it (RFC 6454 §6.2). */
const origin = z.string().transform((text, context) => {
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    context.addIssue({
      code: 'custom',
      message: `Not an origin: ${JSON.stringify(text)} (write https://shop.example or http://localhost:5173)`,
    })
    return z.NEVER
  }
  if (url.origin !== text.toLowerCase()) {
    context.addIssue({
      code: 'custom',
      message: `An origin is scheme://host[:port] with no path, as the browser sends it: write ${JSON.stringify(url.origin)}, not ${JSON.stringify(text)}`,
    })
    return z.NEVER
  }
  return url.origin
})

/** A non-empty list without repeats: an empty list would let the key do nothing, which no one means. */
function list<T extends z.ZodType<string, string>>(item: T, what: string) {
  return z
    .array(item)
    .min(1, `Give at least one ${what}, or leave the field out to allow any`)
    .max(100)
    .transform((values) => [...new Set(values)])
}

export const keyScopeSchema = z.strictObject({
  procedures: list(
    z.enum(KEY_PROCEDURES, {
      message: `Not a procedure a key may call: one of ${KEY_PROCEDURES.join(', ')}`,
    }),
    'procedure',
  ).exactOptional(),
  from: list(address, 'sending account').exactOptional(),
  recipients: list(recipient, 'recipient').exactOptional(),
  origins: list(origin, 'origin').exactOptional(),
  ratePerMinute: z
    .number()
    .int('A whole number of requests a minute')
    .positive('At least 1 request a minute')
    .max(MAX_KEY_RATE_PER_MINUTE, `At most ${MAX_KEY_RATE_PER_MINUTE} requests a minute`)
    .exactOptional(),
}) satisfies z.ZodType<KeyScope, unknown>
