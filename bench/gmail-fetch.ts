/**
 * The Gmail client's fetch: `@googleapis/gmail` sending the typical message
 * to the emulator (a process of its own) through gaxios's default fetch
 * (node-fetch over node:http) and through the runtime's own (undici on
 * Node, Deno's), as the Gmail adapter does for a message in memory. Closed
 * loop at concurrency 32, rounds alternating the two; the figure is the
 * caller's process CPU per send, runtime's fetch / node-fetch, on Node and
 * on Deno (each runs this file as a child). Every send is checked. The
 * adapter takes Node's; Deno's is measured but not used, since it sends a
 * POST again when its pooled connection was reset.
 *
 * Run alone: `node_modules/.bin/node bench/gmail-fetch.ts [--full]`.
 */

import { Buffer } from 'node:buffer'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { gmail } from '@googleapis/gmail'
import { startEmulatorProcess } from '../test/support/emulator-process.ts'
import { printChildResult, resultOfChild } from './child.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import { grantOptionsFor } from './send-path-processes.ts'
import { closedLoop, consentedClient } from './support.ts'
import { readyMessage } from './typical-ready.ts'

const ACCOUNT = 'fetch@example.com'
const VARIANTS = ['node-fetch', 'runtime'] as const
type Variant = (typeof VARIANTS)[number]

interface ChildFigures {
  cpuMsPerSend: Record<Variant, number[]>
  sendsPerSecond: Record<Variant, number[]>
  failures: number
  problems: string[]
}

async function measureHere(quick: boolean): Promise<ChildFigures> {
  const emulator = await startEmulatorProcess()
  try {
    const auth = await consentedClient(grantOptionsFor(emulator, ACCOUNT))
    const rootUrl = emulator.serviceEnv.GMAIL_API_URL!
    const api = gmail({ version: 'v1', rootUrl })
    const options: Record<Variant, object> = {
      'node-fetch': { rootUrl, retry: false },
      runtime: {
        rootUrl,
        retry: false,
        fetchImplementation: (input: never, init: never) => fetch(input, init),
      },
    }
    const ready = Buffer.from(readyMessage(ACCOUNT))
    const figures: ChildFigures = {
      cpuMsPerSend: { 'node-fetch': [], runtime: [] },
      sendsPerSecond: { 'node-fetch': [], runtime: [] },
      failures: 0,
      problems: [],
    }
    const sendsBefore = (await emulator.stats()).calls.send
    let calls = 0
    const phase = async (variant: Variant, durationMs: number) => {
      const before = process.cpuUsage()
      const result = await closedLoop({
        concurrency: 32,
        durationMs,
        call: async () => {
          const requestBody = { raw: ready.toString('base64url') }
          return (await api.users.messages.send({ userId: 'me', auth, requestBody }, options[variant])).data
        },
        check: (sent) => typeof sent.id === 'string' && sent.id.length > 0,
      })
      const used = process.cpuUsage(before)
      figures.failures += result.failures
      calls += result.calls
      return { cpuMs: (used.user + used.system) / 1000 / result.calls, throughput: result.throughput }
    }
    const durationMs = quick ? 1000 : 3000
    for (const variant of VARIANTS) await phase(variant, durationMs / 2)
    for (let round = 0; round < (quick ? 3 : 5); round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()
      for (const variant of order) {
        const measured = await phase(variant, durationMs)
        figures.cpuMsPerSend[variant].push(measured.cpuMs)
        figures.sendsPerSecond[variant].push(measured.throughput)
      }
    }
    const received = (await emulator.stats()).calls.send - sendsBefore
    if (received !== calls) figures.problems.push(`Gmail got ${received} sends for ${calls} calls`)
    return figures
  } finally {
    await emulator.close()
  }
}

function runChild(runtime: 'Node' | 'Deno', quick: boolean): Promise<ChildFigures> {
  const self = fileURLToPath(import.meta.url)
  const command = fileURLToPath(
    new URL(`../node_modules/.bin/${runtime === 'Node' ? 'node' : 'deno'}`, import.meta.url),
  )
  const args = [...(runtime === 'Deno' ? ['run', '-A'] : []), self, '--child', ...(quick ? [] : ['--full'])]
  return resultOfChild(command, args, runtime)
}

export async function benchGmailFetch(options: { quick: boolean }): Promise<BenchResult[]> {
  const results: BenchResult[] = []
  for (const runtime of ['Node', 'Deno'] as const) {
    const figures = await runChild(runtime, options.quick)
    const ratios = figures.cpuMsPerSend.runtime.map(
      (cpu, round) => cpu / figures.cpuMsPerSend['node-fetch'][round]!,
    )
    const ratio = stats(ratios).median
    const used = runtime === 'Node'
    results.push({
      name: `Gmail client on ${runtime}, concurrency 32: CPU per send, the runtime's fetch / gaxios's node-fetch`,
      ratio,
      target: used ? "< 1 (the adapter sends messages in memory through Node's fetch)" : 'none (reported)',
      met: !used || ratio < 1,
      correct: figures.failures === 0 && figures.problems.length === 0,
      lines: [
        `node-fetch: ${formatStats(figures.cpuMsPerSend['node-fetch'], 'ms CPU a send', 3)}, ${formatStats(figures.sendsPerSecond['node-fetch'], 'sends/s')}`,
        `runtime:    ${formatStats(figures.cpuMsPerSend.runtime, 'ms CPU a send', 3)}, ${formatStats(figures.sendsPerSecond.runtime, 'sends/s')}`,
        `ratio per round: ${formatStats(ratios, '', 2)}`,
        ...(used
          ? []
          : [
              "not used: Deno's fetch sends a POST again when its pooled connection was reset (a duplicate when Gmail had the message; test/adapters/gmail/transport.test.ts)",
            ]),
        ...(figures.failures === 0 ? [] : [`CORRECTNESS: ${figures.failures} sends failed`]),
        ...figures.problems.map((problem) => `CORRECTNESS: ${problem}`),
      ],
    })
  }
  return results
}

if (import.meta.main) {
  const quick = !process.argv.includes('--full')
  if (process.argv.includes('--child')) {
    printChildResult(await measureHere(quick))
  } else {
    const { printResults } = await import('./lib.ts')
    printResults(await benchGmailFetch({ quick }))
  }
}
