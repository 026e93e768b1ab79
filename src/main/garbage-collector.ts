/**
 * V8's `gc`, for Node and Deno alike: reached through `node:v8`'s flag
 * (both runtimes have it), fetched once. Where it cannot be had, the
 * functions here do nothing and memory is left to the runtime.
 */
import v8 from 'node:v8'
import vm from 'node:vm'

type Collect = (options: { type: 'minor' | 'major' }) => void

let collect: Collect | undefined | null = null

function collector(): Collect | undefined {
  if (collect !== null) return collect
  try {
    v8.setFlagsFromString('--expose-gc')
    const gc: unknown = vm.runInNewContext('gc')
    collect = typeof gc === 'function' ? (gc as Collect) : undefined
  } catch {
    collect = undefined
  }
  return collect
}

/** A young-generation collection (a scavenge): a millisecond or so. */
export function collectYoung(): void {
  collector()?.({ type: 'minor' })
}

/** A full collection, which also frees the buffers only garbage still holds. */
export function collectAll(): void {
  collector()?.({ type: 'major' })
}
