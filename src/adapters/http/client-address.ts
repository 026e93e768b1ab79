/**
 * Who is calling, as far as the network says: the socket's remote address,
 * or, when that socket is one of `TRUSTED_PROXIES`, the last address in
 * `X-Forwarded-For` that is not itself a trusted proxy. A header from
 * anyone else is ignored, so a caller cannot pick its own address.
 *
 * The socket is read from the bindings each runtime hands `app.fetch`:
 * `@hono/node-server` passes `{ incoming }` (Node's request), the Deno
 * entry point passes `{ remoteAddr }` (Deno.serve's handler info).
 */
import type { Context } from 'hono'
import { addressKey, type IpRange, inRange, parseIp, parseIpRange } from '../../app/ip-address.ts'

/** The client's address key (IPv4, or an IPv6 /64), or `unknown` when the runtime does not say. */
export type ClientAddress = (c: Context) => string

interface Bindings {
  incoming?: { socket?: { remoteAddress?: string } }
  server?: { incoming?: { socket?: { remoteAddress?: string } } }
  remoteAddr?: { hostname?: string }
}

/** The remote address of the request's socket, if the runtime gave it. */
export function socketAddress(c: Context): string | undefined {
  const env = c.env as Bindings | undefined
  return (
    env?.incoming?.socket?.remoteAddress ??
    env?.server?.incoming?.socket?.remoteAddress ??
    env?.remoteAddr?.hostname
  )
}

export function createClientAddress(trustedProxies: string[]): ClientAddress {
  const trusted: IpRange[] = trustedProxies.map((entry) => {
    const range = parseIpRange(entry)
    if (range === undefined) throw new Error(`Not an IP address or range: ${entry}`)
    return range
  })
  const isTrusted = (address: number[]) => trusted.some((range) => inRange(range, address))
  return (c) => {
    const socket = parseIp(socketAddress(c) ?? '')
    if (socket === undefined) return 'unknown'
    if (trusted.length === 0 || !isTrusted(socket)) return addressKey(socket)
    // Right to left: each hop appended the address it saw; the first untrusted one is the client.
    const hops = (c.req.header('X-Forwarded-For') ?? '').split(',').slice(-32).reverse()
    let client = socket
    for (const hop of hops) {
      const address = parseIp(hop)
      if (address === undefined) break
      client = address
      if (!isTrusted(address)) break
    }
    return addressKey(client)
  }
}
