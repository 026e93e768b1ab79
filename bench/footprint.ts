/**
 * Footprint, on Node and on Deno side by side, with the service as a child
 * process in sandbox mode: the time from spawning to a 200 on /healthz and
 * the idle memory (RSS), each against a bare HTTP server of the same
 * runtime started the same way; and the peak memory above idle while one
 * message with a 25 MB attachment goes through (target <= 4x the message's
 * size); and the same peak while the largest attachment a 35 MiB message
 * carries goes through `POST /uploads` and out as a stream (target <= 1x,
 * `footprint-uploads.ts`). Memory is read from /proc/<pid>/status (VmRSS,
 * VmHWM after resetting it through clear_refs).
 *
 * Run alone: `node_modules/.bin/node bench/footprint.ts [--full]`.
 */
import {
  ATTACHMENT_BYTES,
  attachmentBase64,
  measureBare,
  measureService,
  RUNTIMES,
  type Sample,
} from './footprint-probe.ts'
import { benchUploadFootprint } from './footprint-uploads.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'

const PEAK_TARGET = 4

export async function benchFootprint(options: { quick: boolean }): Promise<BenchResult[]> {
  // Five rounds even in quick mode: one send in four or so peaks about 20 MiB higher (when a
  // collection falls), and the median of three then swings the figure by 0.6x of the message.
  const rounds = options.quick ? 5 : 7
  const attachment = attachmentBase64()
  const samples = new Map<string, Sample[]>()
  const add = (key: string, sample: Sample) => samples.set(key, [...(samples.get(key) ?? []), sample])
  // Untimed first start: Deno fills its compile cache (quick mode skips Node's, whose files the other benchmarks have read).
  for (const runtime of RUNTIMES) {
    if (options.quick && runtime.name === 'Node') continue
    await measureBare(runtime)
    await measureService(runtime, undefined)
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse()
    for (const runtime of order) {
      add(`${runtime.name} bare`, await measureBare(runtime))
      add(`${runtime.name} service`, await measureService(runtime, attachment))
    }
  }
  const results: BenchResult[] = []
  const mb = (bytes: number) => bytes / 1024 / 1024
  for (const runtime of RUNTIMES) {
    const bare = samples.get(`${runtime.name} bare`)!
    const service = samples.get(`${runtime.name} service`)!
    const startRatios = service.map((sample, index) => sample.startMs / bare[index]!.startMs)
    const rssRatios = service.map((sample, index) => sample.idleRss / bare[index]!.idleRss)
    const peakRatios = service.map(
      (sample) => (sample.peakAboveIdle ?? Number.NaN) / (sample.messageSize ?? 1),
    )
    const correct = service.every((sample) => sample.sent === true)
    const startRatio = stats(startRatios).median
    const rssRatio = stats(rssRatios).median
    const peakRatio = stats(peakRatios).median
    const messageMb = mb(service[0]?.messageSize ?? Number.NaN)
    results.push(
      {
        name: `footprint (${runtime.name}): start to a 200 on /healthz, service / bare HTTP server`,
        ratio: startRatio,
        target: 'none (reported)',
        met: true,
        correct: true,
        lines: [
          `service: ${formatStats(
            service.map((s) => s.startMs),
            'ms',
          )}`,
          `bare:    ${formatStats(
            bare.map((s) => s.startMs),
            'ms',
          )}`,
        ],
      },
      {
        name: `footprint (${runtime.name}): idle memory (RSS), service / bare HTTP server`,
        ratio: rssRatio,
        target: 'none (reported)',
        met: true,
        correct: true,
        lines: [
          `service: ${formatStats(
            service.map((s) => mb(s.idleRss)),
            'MiB',
            1,
          )}`,
          `bare:    ${formatStats(
            bare.map((s) => mb(s.idleRss)),
            'MiB',
            1,
          )}`,
        ],
      },
      {
        name: `footprint (${runtime.name}): peak memory above idle sending a 25 MB attachment / message size`,
        ratio: peakRatio,
        target: `<= ${PEAK_TARGET}`,
        met: peakRatio <= PEAK_TARGET,
        correct,
        lines: [
          `peak above idle: ${formatStats(
            service.map((s) => mb(s.peakAboveIdle ?? Number.NaN)),
            'MiB',
            1,
          )}` +
            ` for a ${messageMb.toFixed(1)} MiB message (attachment ${mb(ATTACHMENT_BYTES).toFixed(1)} MiB)`,
        ],
      },
    )
  }
  // The upload path: an attachment through POST /uploads, the 35 MiB message composed and sent as streams.
  results.push(...(await benchUploadFootprint(options)))
  return results
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  printResults(await benchFootprint({ quick: !process.argv.includes('--full') }))
}
