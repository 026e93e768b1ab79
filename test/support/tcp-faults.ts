/**
 * Networks that fail in the ways a database client must survive, on
 * loopback: a port nothing listens on, a server that accepts and never says
 * a word, and a proxy that goes silent mid-session. Shared by the
 * PostgreSQL connection tests and `bench/pg-outage.ts`.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { freePort } from './process.ts'

/** Listens on a free loopback port; resolves to it. */
export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

/** A port nothing listens on: bound, then released. */
export const closedPort: () => Promise<number> = freePort

/** Accepts TCP connections and never says a word. */
export async function silentServer(): Promise<{ port: number; close(): void }> {
  const sockets: Socket[] = []
  const server = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
  })
  const port = await listen(server)
  return {
    port,
    close() {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

/** A TCP proxy to `target` that can go silent: forwards nothing more, closes nothing. */
export async function freezableProxy(target: URL): Promise<{ port: number; freeze(): void; close(): void }> {
  const pairs: Array<[Socket, Socket]> = []
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 5432), target.hostname)
    for (const socket of [client, upstream]) socket.on('error', () => {})
    client.pipe(upstream)
    upstream.pipe(client)
    pairs.push([client, upstream])
  })
  const port = await listen(server)
  return {
    port,
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    close() {
      for (const pair of pairs) for (const socket of pair) socket.destroy()
      server.close()
    },
  }
}

/**
 * A TCP proxy to `target` that can be cut: `cut()` resets every connection
 * and refuses new ones (a database gone away), `restore()` forwards again.
 */
export async function switchableProxy(
  target: URL,
): Promise<{ port: number; cut(): void; restore(): void; close(): void }> {
  const pairs = new Set<[Socket, Socket]>()
  let down = false
  const server = createServer((client) => {
    client.on('error', () => {})
    if (down) {
      client.resetAndDestroy()
      return
    }
    const upstream = tcpConnect(Number(target.port || 5432), target.hostname)
    upstream.on('error', () => {})
    client.pipe(upstream)
    upstream.pipe(client)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    client.on('close', () => pairs.delete(pair))
  })
  const port = await listen(server)
  return {
    port,
    cut() {
      down = true
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy()
        upstream.destroy()
      }
      pairs.clear()
    },
    restore() {
      down = false
    },
    close() {
      for (const pair of pairs) for (const socket of pair) socket.destroy()
      server.close()
    },
  }
}
