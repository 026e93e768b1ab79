import { expect, test } from 'vitest'
import { coalescedWriter } from '../../src/main/sandbox.ts'

/** A write that records the state it read when it started and finishes when told to. */
function controlledWrites(state: { value: number }) {
  const started: number[] = []
  const finish: Array<() => void> = []
  const write = () => {
    started.push(state.value)
    return new Promise<void>((done) => finish.push(done))
  }
  return { started, finish, write }
}

test('coalescedWriter writes again after a change made during a write, once for all such changes', async () => {
  const state = { value: 1 }
  const writes = controlledWrites(state)
  const store = coalescedWriter(writes.write, () => {})
  const first = store()
  state.value = 2
  const second = store()
  state.value = 3
  const third = store()
  expect(third).toBe(second)
  expect(writes.started).toEqual([1])
  writes.finish[0]!()
  await first
  // The second write starts only after the first, and reads every change made meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 0))
  expect(writes.started).toEqual([1, 3])
  writes.finish[1]!()
  await second
  expect(writes.started).toEqual([1, 3])
})

test('coalescedWriter reports a failed write and never rejects', async () => {
  const errors: unknown[] = []
  const store = coalescedWriter(
    () => Promise.reject(new Error('disk full')),
    (error) => errors.push(error),
  )
  await expect(store()).resolves.toBeUndefined()
  expect(errors).toEqual([new Error('disk full')])
})
