/**
 * One comparison of `send-path.ts`: the service (or the bare relay) and the
 * direct caller at one concurrency, a warm-up phase each, then rounds that alternate their order;
 * every call checked, and every one counted at the emulator (no send lost,
 * none doubled). The store's flushes are read around the service's phases.
 */
import type { EmulatorProcess } from '../test/support/emulator-process.ts'
import { formatStats, stats } from './lib.ts'
import type { DurabilityProbe, FlushFigure } from './send-path-durability.ts'
import { type LoadResult, percentile } from './support.ts'

export interface Side {
  name: 'service' | 'relay' | 'direct'
  run(concurrency: number, durationMs: number): Promise<LoadResult & { failures: number }>
}

export interface Comparison {
  ratio: number
  p99Ratio: number
  p99Line: string
  correct: boolean
  lines: string[]
  flushes?: FlushFigure
}

export async function compareSides(options: {
  emulator: EmulatorProcess
  service: Side
  direct: Side
  concurrency: number
  rounds: number
  durationMs: number
  probe?: DurabilityProbe | undefined
}): Promise<Comparison> {
  const { emulator, concurrency, durationMs, probe } = options
  const problems: string[] = []
  const sendsAtGmail = async () => {
    const { calls } = await emulator.stats()
    return calls.send + calls.upload
  }
  let serviceCalls = 0
  const phase = async (side: Side, ms: number) => {
    const before = await sendsAtGmail()
    const result = await side.run(concurrency, ms)
    const received = (await sendsAtGmail()) - before
    if (side === options.service) serviceCalls += result.calls
    if (result.failures > 0 || received !== result.calls) {
      problems.push(
        `${side.name}: ${result.failures} failed calls, Gmail got ${received} for ${result.calls} calls`,
      )
    }
    return result
  }
  const sides = [options.service, options.direct]
  const start = await probe?.read()
  for (const side of sides) await phase(side, durationMs / 2)
  // Keyed by role: the side measured (`service`, the service or the relay) and `direct`.
  const roleOf = (side: Side) => (side === options.service ? 'service' : 'direct')
  const throughput = { service: [] as number[], direct: [] as number[] }
  const latencies = { service: [] as number[], direct: [] as number[] }
  const ratios: number[] = []
  const p99Ratios: number[] = []
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse()
    const measured: Partial<Record<'service' | 'direct', LoadResult>> = {}
    for (const side of order) {
      const result = await phase(side, durationMs)
      const role = roleOf(side)
      measured[role] = result
      throughput[role].push(result.throughput)
      latencies[role].push(...result.latencies)
    }
    ratios.push(measured.service!.throughput / measured.direct!.throughput)
    p99Ratios.push(percentile(measured.service!.latencies, 99) / percentile(measured.direct!.latencies, 99))
  }
  const end = await probe?.read()
  const ms = (values: number[], p: number) => `${percentile(values, p).toFixed(1)} ms`
  const name = options.service.name
  const comparison: Comparison = {
    ratio: stats(ratios).median,
    p99Ratio: stats(p99Ratios).median,
    p99Line: formatStats(p99Ratios, '', 2),
    correct: problems.length === 0,
    lines: [
      `${`${name}:`.padEnd(8)} ${formatStats(throughput.service, 'sends/s')}`,
      `direct:  ${formatStats(throughput.direct, 'sends/s')}`,
      `ratio per round: ${formatStats(ratios, '', 2)}`,
      `latency p50 / p99: ${name} ${ms(latencies.service, 50)} / ${ms(latencies.service, 99)}, direct ${ms(latencies.direct, 50)} / ${ms(latencies.direct, 99)}`,
      ...problems,
    ],
  }
  const flushes = start && end && probe ? probe.figure(start, end, serviceCalls) : undefined
  if (flushes !== undefined) comparison.flushes = flushes
  return comparison
}
