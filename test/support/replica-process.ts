/**
 * One service process of a replica fleet (`replica-fleet.ts`): spawned on
 * Node (`src/main/node.ts`) or Deno (`src/main/deno.ts`) with only the
 * environment it is given (and what the runtime needs), its output kept
 * line by line, and ready once `/healthz` answers 200, since a quiet
 * LOG_LEVEL prints no "Listening" line.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')

/** One process of a replica. */
export interface RunningReplica {
  process: ChildProcess
  stdout: string[]
  stderr: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Whether the process has neither exited nor been killed. */
export function isRunning(running: RunningReplica | undefined): boolean {
  return running !== undefined && running.process.exitCode === null && running.process.signalCode === null
}

/** Spawns the service on `runtime` with `env` (plus PATH, and Deno's cache folders on Deno). */
export function spawnReplica(runtime: 'node' | 'deno', env: Record<string, string>): RunningReplica {
  const [command, args] =
    runtime === 'node'
      ? [resolve(ROOT, 'node_modules/.bin/node'), ['src/main/node.ts']]
      : [
          resolve(ROOT, 'node_modules/deno/deno'),
          [
            'run',
            '--allow-net',
            '--allow-env',
            '--allow-read',
            '--allow-write',
            '--allow-sys',
            '--unstable-no-legacy-abort',
            'src/main/deno.ts',
          ],
        ]
  // Only what the runtime needs from the test's environment: PATH, and Deno's cache.
  const inherited: Record<string, string> = { PATH: process.env.PATH ?? '' }
  for (const name of ['HOME', 'DENO_DIR', 'XDG_CACHE_HOME'])
    if (runtime === 'deno' && process.env[name] !== undefined) inherited[name] = process.env[name]
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  const stderr: string[] = []
  collectLines(child.stdout!, stdout)
  collectLines(child.stderr!, stderr)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  )
  return { process: child, stdout, stderr, exited }
}

/** Polls `/healthz` until it answers 200 (503 while the service composes, refused before it listens). */
export async function untilServing(
  running: RunningReplica,
  where: { number: number; port: number },
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs
  const output = () => [...running.stderr, ...running.stdout].slice(-20).join('\n')
  while (Date.now() < until) {
    if (!isRunning(running)) throw new Error(`Replica ${where.number} exited while starting:\n${output()}`)
    try {
      const answer = await fetch(`http://127.0.0.1:${where.port}/healthz`)
      await answer.body?.cancel()
      if (answer.status === 200) return
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 50))
  }
  throw new Error(`Replica ${where.number} did not start in ${timeoutMs} ms:\n${output()}`)
}

function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop() ?? ''
    into.push(...lines)
  })
}
