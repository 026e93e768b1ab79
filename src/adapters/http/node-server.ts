/** Settings of Node's HTTP server that the service relies on. */

interface TunableServer {
  keepAliveTimeout?: number
  headersTimeout?: number
  requestTimeout?: number
}

/**
 * Keeps idle connections open longer than clients and proxies do (undici: 4 s,
 * typical load balancers: 60 s), so that the client side closes them: a server
 * closing a socket just as a client reuses it for a POST loses that request.
 */
export function tuneKeepAlive(server: unknown): void {
  const tunable = server as TunableServer
  tunable.keepAliveTimeout = 65_000
  tunable.headersTimeout = 66_000
  // A 35 MiB message over a slow link still gets its time.
  tunable.requestTimeout = 300_000
}
