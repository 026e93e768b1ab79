/**
 * Idempotent acceptance for a store one process owns (lowdb, the tests'
 * in-memory outbox): for each incoming message, the earlier message its key
 * names (a replay, when the input is the same; CONFLICT for the whole call
 * when it is not), or a fresh acceptance. The caller holds the keys' locks
 * and stores the fresh ones.
 */
import { assertSameInput } from '../../domain/mail/idempotency.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { AcceptResult } from '../../domain/ports.ts'

export async function acceptResults(
  messages: ReadonlyArray<{ entry: OutboxEntry }>,
  earlierWithKey: (key: string) => Promise<OutboxEntry | undefined> | OutboxEntry | undefined,
): Promise<AcceptResult[]> {
  const results: AcceptResult[] = []
  for (const { entry } of messages) {
    const earlier =
      entry.idempotencyKey === undefined ? undefined : await earlierWithKey(entry.idempotencyKey)
    if (earlier === undefined) {
      results.push({ entry: structuredClone(entry), replayed: false })
      continue
    }
    assertSameInput(earlier, entry)
    results.push({ entry: structuredClone(earlier), replayed: true })
  }
  return results
}
