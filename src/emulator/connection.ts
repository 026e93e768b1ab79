/**
 * Dropping the TCP connection under a request, to play network failures.
 * Only possible on Node through @hono/node-server, which passes the raw
 * `IncomingMessage` as `c.env.incoming`.
 */
import type { Context } from 'hono'

interface NodeBindings {
  incoming?: { socket?: { destroy(): void } }
}

/** Destroys the socket of the request; `false` when the runtime gives no access to it. */
export function destroyConnection(c: Context): boolean {
  const env: unknown = c.env
  if (typeof env !== 'object' || env === null) return false
  const socket = (env as NodeBindings).incoming?.socket
  if (socket === undefined || typeof socket.destroy !== 'function') return false
  socket.destroy()
  return true
}
