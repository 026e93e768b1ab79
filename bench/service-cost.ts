/**
 * The cost of the service: `mail.send` over HTTP with a real tRPC client
 * (validation, MIME composition, durable outbox, the Gmail adapter) against
 * the same message sent straight to the same emulated Gmail with
 * `@googleapis/gmail`. The service answers `sent` (it waits for the first
 * attempt), so both sides end when Gmail has the message. Rounds interleave
 * the two sides; targets: throughput >= 0.7 of direct, p99 latency <= 2x.
 *
 * Run alone: `node_modules/.bin/node bench/service-cost.ts [--full]`.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { toMail } from '../src/domain/mail/to-mail.ts'
import { composeMessage } from '../src/domain/mime/compose.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import {
  closedLoop,
  type DirectGmail,
  deliveredCount,
  directGmail,
  type LoadResult,
  percentile,
  type RunningEmulator,
  startConnectedService,
  startEmulator,
  typicalMessage,
  type UnbatchedClient,
  unbatchedClient,
} from './support.ts'

const THROUGHPUT_TARGET = 0.7
const P99_TARGET = 2
const SERVICE_ACCOUNT = 'service@example.com'
const DIRECT_ACCOUNT = 'direct@example.com'
const RELAY_ACCOUNT = 'relay@example.com'

interface Side {
  name: 'service' | 'direct' | 'relay'
  run(concurrency: number, durationMs: number): Promise<LoadResult & { failures: number }>
  account: string
}

export async function benchServiceCost(options: { quick: boolean }): Promise<BenchResult[]> {
  const rounds = options.quick ? 3 : 5
  const durationMs = options.quick ? 700 : 2500
  const emulator = await startEmulator()
  let relay: Awaited<ReturnType<typeof startRelay>> | undefined
  const running = await startConnectedService(emulator, SERVICE_ACCOUNT, {
    GMAIL_SENDS_PER_MINUTE: '0',
    GMAIL_SENDS_PER_DAY: '0',
    SEND_WAIT_MS: '60000',
  })
  try {
    const client = unbatchedClient(running)
    const direct = await directGmail(emulator, DIRECT_ACCOUNT)
    const sides = [serviceSide(client), directSide(direct)]
    // Full mode only: the floor for any HTTP service in front of Gmail (one more hop, no work).
    if (!options.quick) {
      relay = await startRelay(await directGmail(emulator, RELAY_ACCOUNT))
      sides.push(relay.side)
    }
    const results: BenchResult[] = []
    for (const concurrency of [1, 32]) {
      results.push(...(await compare(emulator, sides, { concurrency, rounds, durationMs })))
    }
    return results
  } finally {
    await relay?.close()
    await running.stop()
    await emulator.close()
  }
}

function serviceSide(client: UnbatchedClient): Side {
  return {
    name: 'service',
    account: SERVICE_ACCOUNT,
    run: (concurrency, durationMs) =>
      closedLoop({
        concurrency,
        durationMs,
        call: (index) => client.mail.send.mutate(typicalMessage(SERVICE_ACCOUNT, index)),
        // `queued` with an attempt made: a transient failure that the service retries on its own.
        check: (record) => record.status === 'sent' || (record.status === 'queued' && record.attempts > 0),
      }),
  }
}

/** The typical message, composed once: the direct caller has its message ready, outside the timing. */
function readyMessage(account: string): Uint8Array {
  return composeMessage(toMail(typicalMessage(account)), {
    date: new Date(),
    messageId: '<direct.1@example.com>',
    boundary: () => `=_direct${Math.random().toString(36).slice(2)}`,
  })
}

function directSide(direct: DirectGmail): Side {
  const raw = readyMessage(DIRECT_ACCOUNT)
  return {
    name: 'direct',
    account: DIRECT_ACCOUNT,
    run: (concurrency, durationMs) =>
      closedLoop({
        concurrency,
        durationMs,
        call: () => direct.send(raw),
        check: (sent) => sent.id.length > 0,
      }),
  }
}

/**
 * A bare relay: @hono/node-server + Hono taking the same JSON over HTTP and
 * sending a ready message through the same Gmail client: no validation, no
 * composition, no storage.
 */
async function startRelay(direct: DirectGmail): Promise<{ side: Side; close(): Promise<void> }> {
  const raw = readyMessage(RELAY_ACCOUNT)
  const app = new Hono()
  app.post('/send', async (c) => {
    const input = (await c.req.json()) as { subject?: string }
    const sent = await direct.send(raw)
    return c.json({ ...sent, subject: input.subject })
  })
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      )
    },
  )
  const url = `http://127.0.0.1:${port}/send`
  return {
    side: {
      name: 'relay',
      account: RELAY_ACCOUNT,
      run: (concurrency, durationMs) =>
        closedLoop({
          concurrency,
          durationMs,
          call: async (index) => {
            const response = await fetch(url, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify(typicalMessage(RELAY_ACCOUNT, index)),
            })
            return (await response.json()) as { id?: string }
          },
          check: (sent) => typeof sent.id === 'string',
        }),
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        if ('closeAllConnections' in server) server.closeAllConnections()
      }),
  }
}

async function compare(
  emulator: RunningEmulator,
  sides: Side[],
  options: { concurrency: number; rounds: number; durationMs: number },
): Promise<BenchResult[]> {
  const { concurrency, rounds, durationMs } = options
  const control = emulator.emulator.control
  let correct = true
  const problems: string[] = []
  const phase = async (side: Side, ms: number) => {
    control.clearMailbox()
    const result = await side.run(concurrency, ms)
    const delivered = await deliveredCount(emulator, side.account, result.calls)
    if (result.failures > 0 || delivered !== result.calls) {
      correct = false
      problems.push(
        `${side.name}: ${result.failures} failed calls, ${delivered} of ${result.calls} delivered`,
      )
    }
    control.clearMailbox()
    return result
  }
  for (const side of sides) await phase(side, durationMs / 2)

  const throughput = { service: [] as number[], direct: [] as number[], relay: [] as number[] }
  const latencies = { service: [] as number[], direct: [] as number[], relay: [] as number[] }
  const ratios: number[] = []
  const p99Ratios: number[] = []
  const relayRatios: number[] = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse()
    const measured: Partial<Record<Side['name'], LoadResult>> = {}
    for (const side of order) {
      const result = await phase(side, durationMs)
      measured[side.name] = result
      throughput[side.name].push(result.throughput)
      latencies[side.name].push(...result.latencies)
    }
    const service = measured.service!
    const direct = measured.direct!
    if (measured.relay !== undefined) relayRatios.push(measured.relay.throughput / direct.throughput)
    ratios.push(service.throughput / direct.throughput)
    p99Ratios.push(percentile(service.latencies, 99) / percentile(direct.latencies, 99))
  }
  const ratio = stats(ratios).median
  const p99Ratio = stats(p99Ratios).median
  const ms = (values: number[], p: number) => `${percentile(values, p).toFixed(1)} ms`
  const detail = [
    `service: ${formatStats(throughput.service, 'sends/s')}`,
    `direct:  ${formatStats(throughput.direct, 'sends/s')}`,
    `ratio per round: ${formatStats(ratios, '', 2)}`,
    `latency p50 / p99: service ${ms(latencies.service, 50)} / ${ms(latencies.service, 99)}, direct ${ms(latencies.direct, 50)} / ${ms(latencies.direct, 99)}`,
    ...(relayRatios.length === 0
      ? []
      : [
          `bare HTTP relay in front of the same client (no validation, composition or storage): ${formatStats(throughput.relay, 'sends/s')}, ` +
            `ratio to direct ${formatStats(relayRatios, '', 2)}; latency p50 / p99 ${ms(latencies.relay, 50)} / ${ms(latencies.relay, 99)}`,
        ]),
    ...problems,
  ]
  return [
    {
      name: `service cost, concurrency ${concurrency}: mail.send over tRPC vs @googleapis/gmail direct (throughput ratio)`,
      ratio,
      target: `>= ${THROUGHPUT_TARGET}`,
      met: ratio >= THROUGHPUT_TARGET,
      correct,
      lines: detail,
    },
    {
      name: `service cost, concurrency ${concurrency}: p99 latency, service / direct`,
      ratio: p99Ratio,
      target: `<= ${P99_TARGET}`,
      met: p99Ratio <= P99_TARGET,
      correct,
      lines: [`p99 ratio per round: ${formatStats(p99Ratios, '', 2)}`],
    },
  ]
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  printResults(await benchServiceCost({ quick: !process.argv.includes('--full') }))
}
