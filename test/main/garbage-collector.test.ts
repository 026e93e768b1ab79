/**
 * The runtime's collector as the service reaches it, on Node and Deno: a
 * full collection collects at once what nothing reaches any more (a weak
 * reference to it is empty right after), which no allocation here would
 * have made the runtime do by itself.
 */
import { describe, expect, it } from 'vitest'
import { collectAll } from '../../src/main/garbage-collector.ts'

/** A small object only a weak reference reaches, once the current job is over. */
async function unreachable(): Promise<WeakRef<object>> {
  const weak = new WeakRef({ note: 'garbage' })
  // Targets of weak references live until the end of the job that made them.
  await new Promise((resolve) => setTimeout(resolve, 0))
  return weak
}

describe('the garbage collector', () => {
  it('collects, in a full collection, what nothing reaches any more', async () => {
    const weak = await unreachable()
    collectAll()
    expect(weak.deref()).toBeUndefined()
  })
})
