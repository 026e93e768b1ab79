/**
 * The CPU a side's process spends a send, read from /proc (all its threads:
 * the main thread, the collector's, the runtime's own) around that side's
 * own phases only, so that the caller's and Gmail's CPU are not counted.
 * Linux only: elsewhere it prints nothing.
 */
import { readFile } from 'node:fs/promises'
import type { Side } from './send-path-compare.ts'

/** Clock ticks a second of /proc's utime and stime (`getconf CLK_TCK`: 100 on Linux). */
const TICKS_PER_SECOND = 100

export interface MeteredSide {
  side: Side
  /** One line on what was measured since the last call, then starts again; undefined when /proc cannot be read. */
  take(): string | undefined
}

export function meteredSide(side: Side, pid: number): MeteredSide {
  let cpuMs = 0
  let wallMs = 0
  let calls = 0
  let readable = true
  const metered: Side = {
    name: side.name,
    async run(concurrency, durationMs) {
      const before = await cpuMsOf(pid)
      const started = performance.now()
      const result = await side.run(concurrency, durationMs)
      const after = await cpuMsOf(pid)
      if (before === undefined || after === undefined) {
        readable = false
      } else {
        cpuMs += after - before
        wallMs += performance.now() - started
        calls += result.calls
      }
      return result
    },
  }
  return {
    side: metered,
    take() {
      const line =
        readable && calls > 0
          ? `${side.name} process CPU: ${(cpuMs / calls).toFixed(2)} ms a send, ${((cpuMs / wallMs) * 100).toFixed(0)} % of one core while it ran (/proc, all its threads)`
          : undefined
      cpuMs = 0
      wallMs = 0
      calls = 0
      return line
    },
  }
}

async function cpuMsOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may hold spaces: utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : undefined
  } catch {
    return undefined
  }
}
