/**
 * A webhook receiver for the benchmarks and the browser test: a local HTTP
 * server answering 204 that remembers each `webhook-id` and the raw
 * requests of the first few (to verify their signatures with the
 * `standardwebhooks` package). `startReceiver` runs it in this process;
 * `startReceiverProcess` in a process of its own, so that a benchmark
 * measures the service's cost of an event and not the receiver's.
 *
 * As a script (`node bench/webhook-receiver.ts`) it prints `listening <port>`
 * and answers `GET /_stats` with its count and samples.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'

export interface ReceivedSample {
  headers: Record<string, string>
  body: string
}

/** A receiver answering 204, remembering each `webhook-id` and the raw request of a few. */
export async function startReceiver(options: { stats?: boolean } = {}): Promise<{
  url: string
  ids: Set<string>
  samples: ReceivedSample[]
  close(): Promise<void>
}> {
  const ids = new Set<string>()
  const samples: ReceivedSample[] = []
  const server: Server = createServer((request, response) => {
    if (options.stats && request.method === 'GET' && request.url === '/_stats') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ count: ids.size, samples }))
      return
    }
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const id = String(request.headers['webhook-id'] ?? '')
      ids.add(id)
      if (samples.length < 20) {
        samples.push({
          headers: {
            'webhook-id': id,
            'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
            'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
          },
          body: Buffer.concat(chunks).toString('utf8'),
        })
      }
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    ids,
    samples,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Whether every sample verifies with `standardwebhooks` under `secret`. */
export function samplesVerify(samples: ReceivedSample[], secret: string) {
  const verifier = new Webhook(secret)
  try {
    for (const sample of samples) verifier.verify(sample.body, sample.headers)
    return samples.length > 0
  } catch {
    return false
  }
}

/** The receiver in a child process: its URL, and its count and samples on request. */
export async function startReceiverProcess(): Promise<{
  url: string
  count(): Promise<number>
  samples(): Promise<ReceivedSample[]>
  close(): Promise<void>
}> {
  const script = fileURLToPath(import.meta.url)
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening (\d+)/.exec(output)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) => reject(new Error(`The receiver exited with ${code}`)))
  })
  const stats = async () => {
    const answer = await fetch(`http://127.0.0.1:${port}/_stats`)
    return (await answer.json()) as { count: number; samples: ReceivedSample[] }
  }
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    count: async () => (await stats()).count,
    samples: async () => (await stats()).samples,
    async close() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      await exited
    },
  }
}

if (import.meta.main) {
  const receiver = await startReceiver({ stats: true })
  process.stdout.write(`listening ${new URL(receiver.url).port}\n`)
  process.once('SIGTERM', () => void receiver.close().then(() => process.exit(0)))
}
