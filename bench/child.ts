/**
 * The service (or a bare HTTP server) as a child process: spawn, wait for a
 * 200, read its memory from /proc, stop it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'

export interface Child {
  process: ChildProcess
  pid: number
  /** Everything it printed on stdout and stderr. */
  output(): string
  stop(): Promise<void>
}

/** `keepOutput`: keep only the last this many characters (a long run's log would grow without end). */
export function startChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; keepOutput?: number } = {},
): Child {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd })
  let output = ''
  const keep = options.keepOutput ?? Number.POSITIVE_INFINITY
  const add = (chunk: Buffer) => {
    output += chunk.toString()
    if (output.length > 2 * keep) output = output.slice(-keep)
  }
  child.stdout?.on('data', add)
  child.stderr?.on('data', add)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    process: child,
    pid: child.pid ?? -1,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

export { freePort } from '../test/support/process.ts'

const RESULT_PREFIX = 'RESULT '

/** The child side of `resultOfChild`: its figures, as one line on stdout. */
export function printChildResult(figures: unknown): void {
  console.log(`${RESULT_PREFIX}${JSON.stringify(figures)}`)
}

/**
 * Runs a benchmark file as a child (on another runtime, or in a process of
 * its own) and returns the figures it printed with `printChildResult`; its
 * stderr passes through. `what` names the child in errors.
 */
export function resultOfChild<T>(command: string, args: string[], what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (chunk) => {
      text += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX))
      if (code !== 0 || line === undefined)
        reject(new Error(`The ${what} child exited ${code} with no result`))
      else resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T)
    })
  })
}

/** Polls `url` until it answers 200; the milliseconds from `since` (a performance.now()). */
export async function waitFor200(
  url: string,
  since: number,
  child: Child,
  timeoutMs = 30_000,
): Promise<number> {
  for (;;) {
    try {
      const response = await fetch(url)
      await response.arrayBuffer()
      if (response.status === 200) return performance.now() - since
    } catch {
      // Not listening yet.
    }
    if (child.process.exitCode !== null) throw new Error(`The child exited early:\n${child.output()}`)
    if (performance.now() - since > timeoutMs) throw new Error(`No 200 from ${url} in ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** VmRSS and VmHWM of a process, in bytes. */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 }
}

/** Resets the peak (VmHWM) to the current RSS (Linux, `clear_refs` value 5); false when not allowed. */
export async function resetPeak(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** Samples VmRSS every few milliseconds until `stop` is called; the highest value seen. */
export function sampleRss(pid: number): { stop(): Promise<number> } {
  let highest = 0
  let running = true
  const loop = (async () => {
    while (running) {
      try {
        highest = Math.max(highest, (await memoryOf(pid)).rss)
      } catch {
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return highest
    },
  }
}
