/** Child processes of the service for end-to-end tests. */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** A free loopback port (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface ServiceProcess {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

export function spawnService(command: string, args: string[], env: Record<string, string>): ServiceProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, output: () => output, exited }
}

/** Polls `url` until it answers 200, or fails after `timeoutMs` with the process output. */
export async function waitForHealthy(
  url: string,
  service: ServiceProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (service.child.exitCode !== null) throw new Error(`The service exited early:\n${service.output()}`)
    try {
      const response = await fetch(url)
      if (response.status === 200) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`The service did not become healthy:\n${service.output()}`)
}
