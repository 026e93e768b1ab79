/**
 * The stream pacer of `app/uploads/stream-pacer.ts` for Node and Deno: a
 * young-generation garbage collection (a scavenge) after every 4 MiB that
 * passed through the long streams, so that the chunks already written
 * are freed before the next ones pile up. The collector is V8's `gc`,
 * reached through `node:v8`'s flag (both runtimes have it); where it
 * cannot be had, nothing is done and memory is left to the runtime.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import type { StreamPacer } from '../app/uploads/stream-pacer.ts'

const EVERY_BYTES = 4 * 1_048_576

type Collect = (options: { type: 'minor' | 'major' }) => void

function collector(): Collect | undefined {
  try {
    v8.setFlagsFromString('--expose-gc')
    const gc: unknown = vm.runInNewContext('gc')
    return typeof gc === 'function' ? (gc as Collect) : undefined
  } catch {
    return undefined
  }
}

export function createStreamPacer(): StreamPacer {
  let collect: Collect | undefined | null = null
  let since = 0
  return {
    passed(bytes) {
      since += bytes
      if (since < EVERY_BYTES) return
      since = 0
      if (collect === null) collect = collector()
      collect?.({ type: 'minor' })
    },
  }
}
