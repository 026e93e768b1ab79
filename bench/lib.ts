/**
 * A small benchmark harness: rounds of repeated calls timed with
 * `performance.now()`, summarized as min / median / max.
 */

/** The outcome of one comparison, as the bench runner prints and checks it. */
export interface BenchResult {
  name: string
  /** The measured figure the target is about (a throughput or time ratio). */
  ratio: number
  /** The target in words, e.g. `>= 10`. */
  target: string
  met: boolean
  /** Whether the compared outputs were checked equal before timing. */
  correct: boolean
  /** Details to print: per-round figures, baselines. */
  lines: string[]
}

export interface MeasureOptions {
  rounds: number
  /** Each round calls `fn` until at least this much time has passed. */
  minTimeMs: number
}

export interface Stats {
  min: number
  median: number
  max: number
}

/**
 * Calls `fn` repeatedly for `rounds` rounds of at least `minTimeMs` each,
 * after a warm-up round, and returns the operations per second of each
 * round. An `fn` returning a promise is awaited; a synchronous one is not,
 * so that its timing carries no microtask overhead.
 */
export async function measure(fn: () => unknown, options: MeasureOptions): Promise<number[]> {
  const [results] = await measureInterleaved([fn], options)
  return results!
}

/**
 * Like `measure` for several functions at once, alternating them round by
 * round so that a busy machine slows them alike; returns each one's
 * operations per second per round.
 */
export async function measureInterleaved(
  fns: Array<() => unknown>,
  options: MeasureOptions,
): Promise<number[][]> {
  const asyncFlags: boolean[] = []
  for (const fn of fns) {
    const first = fn()
    asyncFlags.push(first instanceof Promise)
    if (first instanceof Promise) await first
  }
  for (const [index, fn] of fns.entries()) await round(fn, asyncFlags[index]!, options.minTimeMs / 2)
  const results: number[][] = fns.map(() => [])
  for (let i = 0; i < options.rounds; i++) {
    for (const [index, fn] of fns.entries()) {
      results[index]!.push(await round(fn, asyncFlags[index]!, options.minTimeMs))
    }
  }
  return results
}

async function round(fn: () => unknown, isAsync: boolean, minTimeMs: number): Promise<number> {
  let operations = 0
  const start = performance.now()
  let elapsed = 0
  do {
    if (isAsync) await fn()
    else fn()
    operations++
    elapsed = performance.now() - start
  } while (elapsed < minTimeMs)
  return (operations * 1000) / elapsed
}

/** Per-round ratios `a[i] / b[i]` of two interleaved measurements. */
export function ratios(a: number[], b: number[]): number[] {
  return a.map((value, index) => value / b[index]!)
}

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { min: sorted[0] ?? Number.NaN, median, max: sorted[sorted.length - 1] ?? Number.NaN }
}

/** `min / median / max` with a unit, for a line of output. */
export function formatStats(values: number[], unit: string, digits = 0): string {
  const { min, median, max } = stats(values)
  const format = (value: number): string =>
    value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  return `min ${format(min)} / median ${format(median)} / max ${format(max)}${unit === '' ? '' : ` ${unit}`}`
}

/** Prints each result with its details and whether it met its target. */
export function printResults(results: BenchResult[]): void {
  for (const result of results) {
    const verdict = !result.correct ? 'INCORRECT OUTPUT' : result.met ? 'met' : 'MISSED'
    console.log(`${result.name}: ${result.ratio.toFixed(2)} (target ${result.target}) ${verdict}`)
    for (const line of result.lines) console.log(`  ${line}`)
  }
}
