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
import { toMail } from '../src/domain/mail/to-mail.ts'
import { composeMessage } from '../src/domain/mime/compose.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import {
  closedLoop,
  type DirectGmail,
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

interface Side {
  name: 'service' | 'direct'
  run(concurrency: number, durationMs: number): Promise<LoadResult & { failures: number }>
  account: string
}

export async function benchServiceCost(options: { quick: boolean }): Promise<BenchResult[]> {
  const rounds = options.quick ? 3 : 5
  const durationMs = options.quick ? 1200 : 4000
  const emulator = await startEmulator()
  const running = await startConnectedService(emulator, SERVICE_ACCOUNT, {
    GMAIL_SENDS_PER_MINUTE: '0',
    GMAIL_SENDS_PER_DAY: '0',
    SEND_WAIT_MS: '60000',
  })
  try {
    const client = unbatchedClient(running)
    const direct = await directGmail(emulator, DIRECT_ACCOUNT)
    const sides = [serviceSide(client), directSide(direct)]
    const results: BenchResult[] = []
    for (const concurrency of [1, 32]) {
      results.push(...(await compare(emulator, sides, { concurrency, rounds, durationMs })))
    }
    return results
  } finally {
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
        check: (record) => record.status === 'sent' && record.gmailMessageId !== undefined,
      }),
  }
}

function directSide(direct: DirectGmail): Side {
  // The direct caller has its message ready: composed once, outside the timing.
  const raw = composeMessage(toMail(typicalMessage(DIRECT_ACCOUNT)), {
    date: new Date(),
    messageId: '<direct.1@example.com>',
    boundary: () => `=_direct${Math.random().toString(36).slice(2)}`,
  })
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
    const delivered = control.mailbox().filter((message) => message.account === side.account).length
    if (result.failures > 0 || delivered !== result.calls) {
      correct = false
      problems.push(`${side.name}: ${result.failures} failed calls, ${delivered} of ${result.calls} delivered`)
    }
    control.clearMailbox()
    return result
  }
  for (const side of sides) await phase(side, durationMs / 2)

  const throughput = { service: [] as number[], direct: [] as number[] }
  const latencies = { service: [] as number[], direct: [] as number[] }
  const ratios: number[] = []
  const p99Ratios: number[] = []
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse()
    const measured: Record<string, LoadResult> = {}
    for (const side of order) measured[side.name] = await phase(side, durationMs)
    const service = measured.service!
    const direct = measured.direct!
    throughput.service.push(service.throughput)
    throughput.direct.push(direct.throughput)
    latencies.service.push(...service.latencies)
    latencies.direct.push(...direct.latencies)
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
