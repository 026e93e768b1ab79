/**
 * The bookkeeping of `change-events.ts`: which subjects have a change under
 * way, the notes written before those changes, and the publication of
 * their events after them.
 *
 * The rule that keeps events from being lost: a change that may report an
 * event is written only once a note of its subject is durable, and the
 * note is forgotten only together with the publication of the change's
 * events (`ChangeJournal.conclude`), by the last change under way on the
 * subject. What may run beside the caller without weakening that:
 *
 * - the publication: a change resolves once it is written, its events
 *   following in the background (`settled` waits for them); a crash in
 *   between leaves the note, and the next open publishes them;
 * - the note itself, when the change is known in advance: a claimed
 *   message's outcome follows its claim, so the claim notes it beside its
 *   own write (`noteAhead`), and the outcome, taking that note over, waits
 *   for no write before its own.
 *
 * A subject with a change under way (or a note taken ahead) is left alone
 * by `reconcile`; the journal keeps its calls in order, so a change begun
 * after another's conclusion notes its subject after the other forgot it.
 */
import type { WebhookEvent } from '../../domain/webhooks/event.ts'
import { type ChangeJournal, type NotedChange, noteKey } from './change-journal.ts'

export interface ChangeNotes {
  /**
   * Notes `changes` (or takes over the notes taken ahead of them), runs
   * `write`, and resolves with its result; then publishes `derive(result)`
   * and forgets the notes, in the background.
   */
  around<T>(
    changes: readonly NotedChange[],
    write: () => Promise<T>,
    derive: (result: T) => Promise<WebhookEvent[]>,
  ): Promise<T>
  /** Notes `change` now, for a change of its subject that is sure to follow (nothing waits for it). */
  noteAhead(change: NotedChange): void
  /** Whether a note was taken ahead for the subject of `change` and not taken over yet. */
  notedAhead(change: NotedChange): boolean
  /** Publishes what the changes still noted imply; returns how many events. */
  reconcile(): Promise<number>
  /** Resolves once the events of every change written so far are published (or failed to be). */
  settled(): Promise<void>
}

export function createChangeNotes(options: {
  journal: ChangeJournal
  now: () => number
  /** The events a noted change implies, looking at its subject as it is now. */
  implied: (change: NotedChange) => Promise<WebhookEvent[]>
  onError?: (error: unknown) => void
}): ChangeNotes {
  const { journal, now } = options
  /** Keys of changes under way and of notes taken ahead (a count each). */
  const inFlight = new Map<string, number>()
  /** Notes taken ahead, by key: whether each became durable. */
  const ahead = new Map<string, Promise<boolean>>()
  /** Publications under way. */
  const publishing = new Set<Promise<void>>()
  /** A publication or a write failed: notes are left over, to look at before the next change. */
  let leftovers = false
  let reconciling: Promise<number> | undefined

  const begin = (key: string) => inFlight.set(key, (inFlight.get(key) ?? 0) + 1)
  /** Ends one change of each key; returns the keys no change is under way on any more. */
  const end = (keys: readonly string[]): string[] => {
    const last: string[] = []
    for (const key of keys) {
      const count = (inFlight.get(key) ?? 1) - 1
      if (count === 0) {
        inFlight.delete(key)
        last.push(key)
      } else inFlight.set(key, count)
    }
    return last
  }

  const reconcileNow = async (): Promise<number> => {
    const notes = journal.noted().filter((change) => !inFlight.has(noteKey(change)))
    if (notes.length === 0) return 0
    const events: WebhookEvent[] = []
    for (const change of notes) events.push(...(await options.implied(change)))
    // A change begun meanwhile on one of these subjects keeps its note: it concludes it itself.
    const keys = notes.map(noteKey).filter((key) => !inFlight.has(key))
    await journal.conclude(keys, events, now())
    return events.length
  }

  const reconcile = (): Promise<number> => {
    reconciling ??= reconcileNow().finally(() => {
      reconciling = undefined
    })
    return reconciling
  }

  const catchUp = async () => {
    if (!leftovers) return
    leftovers = false
    await reconcile().catch((error: unknown) => {
      leftovers = true
      options.onError?.(error)
    })
  }

  /** Publishes a written change's events and forgets its notes, the caller already answered. */
  const publish = <T>(keys: readonly string[], result: T, derive: (result: T) => Promise<WebhookEvent[]>) => {
    const running = (async () => {
      let ended = false
      try {
        const events = await derive(result)
        ended = true
        // end() and the conclusion in one step: a change of the same subject begun after
        // end() notes it after this forgets it (the journal keeps the order of its calls).
        await journal.conclude(end(keys), events, now())
      } catch (error) {
        if (!ended) end(keys)
        leftovers = true
        options.onError?.(error)
      }
    })()
    publishing.add(running)
    void running.finally(() => publishing.delete(running))
  }

  const around = async <T>(
    changes: readonly NotedChange[],
    write: () => Promise<T>,
    derive: (result: T) => Promise<WebhookEvent[]>,
  ): Promise<T> => {
    await catchUp()
    const keys = changes.map(noteKey)
    const taken: Array<Promise<boolean>> = []
    const fresh: NotedChange[] = []
    for (const [index, key] of keys.entries()) {
      const early = ahead.get(key)
      // A note taken ahead is this change's: so is its count.
      if (early !== undefined) {
        ahead.delete(key)
        taken.push(early)
      } else {
        begin(key)
        fresh.push(changes[index]!)
      }
    }
    let result: T
    try {
      // A note taken ahead that failed: noted again now (a subject noted already keeps its note).
      const toNote = (await Promise.all(taken)).every(Boolean) ? fresh : changes
      if (toNote.length > 0) await journal.note(toNote)
      result = await write()
    } catch (error) {
      end(keys)
      // Whether the write happened is for the next reconciliation to find out.
      leftovers = true
      throw error
    }
    publish(keys, result, derive)
    return result
  }

  return {
    around,

    noteAhead(change) {
      const key = noteKey(change)
      if (ahead.has(key)) return
      begin(key)
      ahead.set(
        key,
        journal.note([change], { ahead: true }).then(
          () => true,
          () => false,
        ),
      )
    },

    notedAhead: (change) => ahead.has(noteKey(change)),

    reconcile,

    async settled() {
      while (publishing.size > 0) await Promise.allSettled([...publishing])
    },
  }
}
