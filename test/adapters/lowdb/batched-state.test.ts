/**
 * BatchedState: changes queued together are saved together, all or
 * nothing; a failed save leaves the committed state as it was; a change
 * that refuses is refused alone.
 */
import { describe, expect, it } from 'vitest'
import { BatchedState } from '../../../src/adapters/lowdb/batched-state.ts'

interface State {
  items: string[]
  other: { n: number }
}

function make(fail: () => boolean = () => false) {
  const saves: Array<{ items: string[]; parts: string[] }> = []
  const state = new BatchedState<State>(
    { items: [], other: { n: 0 } },
    {
      async save(draft, parts) {
        if (fail()) throw new Error('disk full')
        saves.push({ items: [...draft.items], parts: [...parts] })
      },
    },
  )
  return { state, saves }
}

describe('BatchedState', () => {
  it('saves the changes issued together in one write, and resolves each with its own result', async () => {
    const { state, saves } = make()
    const results = await Promise.all(
      ['a', 'b', 'c'].map((item) =>
        state.run(['items'], (draft) => {
          draft.items.push(item)
          return draft.items.length
        }),
      ),
    )
    expect(results).toEqual([1, 2, 3])
    expect(saves).toEqual([{ items: ['a', 'b', 'c'], parts: ['items'] }])
    expect(state.state.items).toEqual(['a', 'b', 'c'])
  })

  it('keeps the committed state when a save fails, rejecting every change of the batch', async () => {
    let failing = true
    const { state } = make(() => failing)
    await state.run(['items'], (draft) => draft.items.push('kept')).catch(() => {})
    expect(state.state.items).toEqual([])
    failing = false
    await state.run(['items'], (draft) => draft.items.push('first'))
    failing = true
    const outcomes = await Promise.allSettled([
      state.run(['items'], (draft) => draft.items.push('lost-1')),
      state.run(['items'], (draft) => draft.items.push('lost-2')),
    ])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected'])
    expect(state.state.items).toEqual(['first'])
  })

  it('refuses a change that throws alone, and never shows a batch under way to readers', async () => {
    const { state, saves } = make()
    let seenDuring: string[] | undefined
    const refused = state.run(['items'], () => {
      throw new Error('refused')
    })
    const accepted = state.run(['items'], (draft) => {
      draft.items.push('ok')
      seenDuring = [...state.state.items]
    })
    await expect(refused).rejects.toThrow('refused')
    await accepted
    expect(seenDuring).toEqual([])
    expect(saves).toEqual([{ items: ['ok'], parts: ['items'] }])
  })
})
