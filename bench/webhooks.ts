/**
 * Webhooks: what one subscribed endpoint adds to `mail.send`, side by side
 * with none, and how fast the dispatcher delivers a backlog of events
 * against a plain loop of the same signed POSTs (the floor for any sender).
 *
 * The receiver is a local HTTP server answering 204 (`webhook-receiver.ts`, in a
 * process of its own for the cost per send); every event that a
 * send produced must arrive (under its one `webhook-id`), and a sample of
 * signatures is checked with the `standardwebhooks` package: a miss is a
 * correctness failure, not a timing.
 *
 * Run alone: `node_modules/.bin/node bench/webhooks.ts [--full]`.
 */
import { createTRPCClient, httpLink } from '@trpc/client'
import type { AppRouter } from '../src/adapters/http/trpc/router.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import {
  closedLoop,
  percentile,
  startConnectedService,
  startEmulator,
  typicalMessage,
  unbatchedClient,
} from './support.ts'
import { samplesVerify, startReceiverProcess } from './webhook-receiver.ts'
import { benchDispatcher } from './webhooks-dispatch.ts'

const ACCOUNT = 'hooks@example.com'
const ADDED_COST_TARGET = 0.9

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (!(await predicate()) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return predicate()
}

async function benchAddedCost(options: { quick: boolean }): Promise<BenchResult> {
  const rounds = options.quick ? 3 : 5
  const durationMs = options.quick ? 800 : 2500
  const concurrency = 8
  const emulator = await startEmulator()
  // In a process of its own: the figure is the service's cost of an event, not the receiver's.
  const receiver = await startReceiverProcess()
  const running = await startConnectedService(emulator, ACCOUNT, {
    GMAIL_SENDS_PER_MINUTE: '0',
    GMAIL_SENDS_PER_DAY: '0',
    SEND_WAIT_MS: '60000',
    WEBHOOK_RETRY_BASE_MS: '100',
  })
  const admin = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${running.url}/trpc`,
        headers: () => ({ Authorization: `Bearer ${running.adminToken}` }),
      }),
    ],
  })
  try {
    const client = unbatchedClient(running)
    const sentIds: string[] = []
    const phase = () =>
      closedLoop({
        concurrency,
        durationMs,
        call: async (index) => {
          const record = await client.mail.send.mutate(typicalMessage(ACCOUNT, index))
          sentIds.push(record.id)
          return record
        },
        check: (record) => record.status === 'sent',
      })
    await phase() // warm-up
    const none: number[] = []
    const one: number[] = []
    const p99 = { none: [] as number[], one: [] as number[] }
    let failures = 0
    let expectedEvents = 0
    let secret = ''
    for (let round = 0; round < rounds; round++) {
      const withFirst = round % 2 === 1
      for (const subscribed of withFirst ? [true, false] : [false, true]) {
        let endpointId: string | undefined
        if (subscribed) {
          const endpoint = await admin.admin.webhooks.create.mutate({
            url: receiver.url,
            events: ['mail.sent'],
          })
          endpointId = endpoint.id
          // The receiver keeps its first requests as samples: they were signed with the first endpoint's secret.
          if (secret === '') secret = endpoint.secret
          sentIds.length = 0
        }
        const result = await phase()
        failures += result.failures
        ;(subscribed ? one : none).push(result.throughput)
        p99[subscribed ? 'one' : 'none'].push(percentile(result.latencies, 99))
        if (endpointId !== undefined) {
          expectedEvents += sentIds.length
          // Every send of the phase produced one mail.sent event: wait for all, then drop the endpoint.
          await waitFor(async () => (await receiver.count()) >= expectedEvents, 30_000)
          await admin.admin.webhooks.delete.mutate({ id: endpointId })
        }
      }
    }
    const ratios = one.map((value, index) => value / none[index]!)
    const ratio = stats(ratios).median
    const received = await receiver.count()
    const verified = samplesVerify(await receiver.samples(), secret)
    const correct = failures === 0 && received === expectedEvents && verified
    return {
      name: `mail.send with one subscribed webhook endpoint vs none, concurrency ${concurrency}`,
      ratio,
      target: `>= ${ADDED_COST_TARGET}`,
      met: ratio >= ADDED_COST_TARGET,
      correct,
      lines: [
        `no endpoint:  ${formatStats(none, 'sends/s')}, p99 ${formatStats(p99.none, 'ms')}`,
        `one endpoint: ${formatStats(one, 'sends/s')}, p99 ${formatStats(p99.one, 'ms')}`,
        `added cost per send: ${(1000 / stats(one).median - 1000 / stats(none).median).toFixed(2)} ms of throughput time`,
        `events: ${received} of ${expectedEvents} delivered once each; signatures checked with standardwebhooks: ${verified ? 'yes' : 'NO'}`,
        ...(failures > 0 ? [`${failures} sends failed`] : []),
      ],
    }
  } finally {
    await running.stop()
    await receiver.close()
    await emulator.close()
  }
}

export async function benchWebhooks(options: { quick: boolean }): Promise<BenchResult[]> {
  return [await benchAddedCost(options), ...(await benchDispatcher(options))]
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  printResults(await benchWebhooks({ quick: !process.argv.includes('--full') }))
}
