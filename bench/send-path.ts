/**
 * The cost of the service as deployed: `mail.send` over HTTP with a real
 * tRPC client to the service in its own process (Node or Deno, lowdb or
 * PostgreSQL), which validates, composes, stores durably and sends through
 * the Gmail adapter, against the same message sent straight to the same
 * emulated Gmail with `@googleapis/gmail` from the benchmark's process. The
 * emulator runs in a process of its own, so neither side shares a thread
 * with Gmail. The service answers `sent` (it waits for the first attempt),
 * so both sides end when Gmail has the message.
 *
 * Two Gmails: the emulator answering as fast as it can (about 1.5 ms here,
 * the floor of a Gmail call), and the emulator answering after 100 ms, about
 * what Google takes. Rounds interleave the two sides. Targets: throughput
 * >= 0.7 of direct and p99 <= 2x at concurrency 1 and 32; >= 0.95 of direct
 * against the 100 ms Gmail. Printed beside them: the store's flushes per
 * delivered message (lowdb: fsyncs, from /metrics; PostgreSQL: commits and
 * WAL flushes from pg_stat_database and pg_stat_wal), target well under one
 * at concurrency 32.
 *
 * Measured the same way, as a reference with no target: a bare relay in a
 * process of its own (`relay-process.ts`: an HTTP hop in front of the same
 * Gmail client, nothing else), the floor of any service that answers once
 * Gmail has the message.
 *
 * Run alone: `node_modules/.bin/node bench/send-path.ts [--full] [--only=relay,Node/lowdb,Deno/PostgreSQL]`.
 */
import type { MailRecord } from '../src/client.ts'
import type { MailInput } from '../src/domain/mail/input.ts'
import { type EmulatorProcess, startEmulatorProcess } from '../test/support/emulator-process.ts'
import { createScratchDatabase } from './fleet-support.ts'
import type { BenchResult } from './lib.ts'
import { type Comparison, compareSides, type Side } from './send-path-compare.ts'
import { type MeteredSide, meteredSide } from './send-path-cpu.ts'
import { type DurabilityProbe, lowdbProbe, postgresProbe } from './send-path-durability.ts'
import {
  directGmailTo,
  type RuntimeName,
  type ServiceUnderTest,
  startServiceUnderTest,
} from './send-path-processes.ts'
import { startRelayProcess } from './send-path-relay.ts'
import { closedLoop, typicalMessage } from './support.ts'
import { readyMessage } from './typical-ready.ts'

const SERVICE_ACCOUNT = 'service@example.com'
const DIRECT_ACCOUNT = 'direct@example.com'
const FLUSH_TARGET = 0.5

type StoreName = 'lowdb' | 'PostgreSQL'
const CONFIGS: Array<{ runtime: RuntimeName; store: StoreName }> = [
  { runtime: 'Node', store: 'lowdb' },
  { runtime: 'Node', store: 'PostgreSQL' },
  { runtime: 'Deno', store: 'lowdb' },
  { runtime: 'Deno', store: 'PostgreSQL' },
]

export async function benchSendPath(options: { quick: boolean; only?: string[] }): Promise<BenchResult[]> {
  const rounds = options.quick ? 3 : 5
  const emulator = await startEmulatorProcess()
  const results: BenchResult[] = []
  try {
    const direct = await directGmailTo(emulator, DIRECT_ACCOUNT)
    const directRaw = readyMessage(DIRECT_ACCOUNT)
    const directSide: Side = {
      name: 'direct',
      run: (concurrency, durationMs) =>
        closedLoop({
          concurrency,
          durationMs,
          call: () => direct.send(directRaw),
          check: (sent) => sent.id.length > 0,
        }),
    }
    if (options.only === undefined || options.only.includes('relay')) {
      results.push(...(await relayFigures(emulator, directSide, rounds, options.quick)))
    }
    for (const config of CONFIGS) {
      const label = `${config.runtime}, ${config.store}`
      if (options.only !== undefined && !options.only.includes(`${config.runtime}/${config.store}`)) continue
      const database = config.store === 'PostgreSQL' ? await createScratchDatabase('send_path') : undefined
      const service = await startServiceUnderTest({
        runtime: config.runtime,
        emulator,
        email: SERVICE_ACCOUNT,
        ...(database === undefined ? {} : { databaseUrl: database.url }),
      })
      const probe: DurabilityProbe =
        database === undefined ? lowdbProbe(service.url) : await postgresProbe(database.name)
      try {
        const serviceSide = meteredSide(
          {
            name: 'service',
            run: (concurrency, durationMs) =>
              closedLoop({
                concurrency,
                durationMs,
                call: (index) => sendUntilSent(service, typicalMessage(SERVICE_ACCOUNT, index)),
                check: (record) => record.status === 'sent' && record.gmailMessageId !== undefined,
              }),
          },
          service.child.pid,
        )
        for (const delayMs of DELAYS_MS) {
          await gmailAnswering(emulator, delayMs)
          for (const concurrency of [1, 32]) {
            const durationMs = durationFor(delayMs, concurrency, options.quick)
            const compared = await compareSides({
              emulator,
              service: serviceSide.side,
              direct: directSide,
              concurrency,
              rounds,
              durationMs,
              probe: delayMs === 0 ? probe : undefined,
            })
            withCpuLine(compared, serviceSide)
            results.push(...figures(label, delayMs, concurrency, compared))
          }
        }
      } finally {
        await gmailAnswering(emulator, 0)
        await probe.close()
        await service.stop()
        await database?.drop()
      }
    }
  } finally {
    await emulator.close()
  }
  return results
}

/** The bare relay against both Gmails, at both concurrencies: reported, no target. */
async function relayFigures(
  emulator: EmulatorProcess,
  direct: Side,
  rounds: number,
  quick: boolean,
): Promise<BenchResult[]> {
  const relay = await startRelayProcess(emulator)
  const relayMetered = meteredSide(relay.side, relay.pid)
  const results: BenchResult[] = []
  try {
    for (const delayMs of DELAYS_MS) {
      await gmailAnswering(emulator, delayMs)
      for (const concurrency of [1, 32]) {
        const durationMs = durationFor(delayMs, concurrency, quick)
        const compared = await compareSides({
          emulator,
          service: relayMetered.side,
          direct,
          concurrency,
          rounds,
          durationMs,
        })
        withCpuLine(compared, relayMetered)
        const gmail = delayMs === 0 ? '' : `, Gmail answering in ${delayMs} ms`
        results.push({
          name: `send path floor: a bare HTTP relay (Node, no storage)${gmail}, concurrency ${concurrency}: relay vs direct (throughput ratio)`,
          ratio: compared.ratio,
          target: 'none (reported)',
          met: true,
          correct: compared.correct,
          lines: [...compared.lines, `p99 ratio: ${compared.p99Ratio.toFixed(2)}`],
        })
      }
    }
  } finally {
    await gmailAnswering(emulator, 0)
    await relay.stop()
  }
  return results
}

const DELAYS_MS = [0, 100]

/** The measured side's CPU a send, printed under its figure. */
function withCpuLine(compared: Comparison, metered: MeteredSide): void {
  const line = metered.take()
  if (line !== undefined) compared.lines.push(line)
}

/** Every Gmail send answered after `delayMs` (0: as fast as the emulator can). */
function gmailAnswering(emulator: EmulatorProcess, delayMs: number): Promise<void> {
  return emulator.setFaultRate(
    'send',
    delayMs === 0 ? 0 : 1,
    delayMs === 0 ? [] : [{ kind: 'delay', ms: delayMs }],
  )
}

/**
 * `mail.send`, then, if it answered before the first attempt (a replica on
 * PostgreSQL answers `queued` when all its sends in flight are taken), the
 * record until it is sent: the call ends when Gmail has the message.
 */
async function sendUntilSent(service: ServiceUnderTest, input: MailInput): Promise<MailRecord> {
  let record = await service.client.mail.send.mutate(input)
  while (record.status === 'queued' || record.status === 'sending') {
    await new Promise((resolve) => setTimeout(resolve, 5))
    record = await service.client.mail.get.query({ id: record.id })
  }
  return record
}

/** Long enough for a few dozen sends a round at concurrency 1 against the 100 ms Gmail. */
function durationFor(delayMs: number, concurrency: number, quick: boolean): number {
  if (delayMs === 0) return quick ? 700 : 2500
  if (concurrency === 1) return quick ? 2000 : 5000
  return quick ? 1000 : 3000
}

function figures(
  label: string,
  delayMs: number,
  concurrency: number,
  compared: Awaited<ReturnType<typeof compareSides>>,
): BenchResult[] {
  const { ratio, p99Ratio, correct, lines, flushes } = compared
  if (delayMs > 0) {
    return [
      {
        name: `send path (${label}), Gmail answering in ${delayMs} ms, concurrency ${concurrency}: mail.send vs direct (throughput ratio)`,
        ratio,
        target: '>= 0.95',
        met: ratio >= 0.95,
        correct,
        lines: [...lines, `p99 ratio: ${p99Ratio.toFixed(2)}`],
      },
    ]
  }
  const results: BenchResult[] = [
    {
      name: `send path (${label}), concurrency ${concurrency}: mail.send over tRPC vs @googleapis/gmail direct (throughput ratio)`,
      ratio,
      target: '>= 0.7',
      met: ratio >= 0.7,
      correct,
      lines,
    },
    {
      name: `send path (${label}), concurrency ${concurrency}: p99 latency, service / direct`,
      ratio: p99Ratio,
      target: '<= 2',
      met: p99Ratio <= 2,
      correct,
      lines: [`p99 ratio per round: ${compared.p99Line}`],
    },
  ]
  if (flushes !== undefined) {
    results.push({
      name: `send path (${label}), concurrency ${concurrency}: ${flushes.unit} per delivered message`,
      ratio: flushes.perMessage,
      target: concurrency === 1 ? 'none (reported)' : `<= ${FLUSH_TARGET}`,
      met: concurrency === 1 || flushes.perMessage <= FLUSH_TARGET,
      correct,
      lines: flushes.lines,
    })
  }
  return results
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  const only = process.argv.find((argument) => argument.startsWith('--only='))?.slice('--only='.length)
  printResults(
    await benchSendPath({
      quick: !process.argv.includes('--full'),
      ...(only === undefined ? {} : { only: only.split(',') }),
    }),
  )
}
