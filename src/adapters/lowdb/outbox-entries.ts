/** Full outbox entries for indexed messages: those held in memory copied, the others read from the history. */
import { ServiceError } from '../../domain/errors.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import type { HistoryLog } from './history-log.ts'
import type { IndexedMessage } from './outbox-index.ts'

/** Copies, in the order of `messages`; a history line that is not the indexed message is a STORAGE error. */
export async function entriesOf(
  history: HistoryLog,
  messages: readonly IndexedMessage[],
): Promise<OutboxEntry[]> {
  const locations = messages.flatMap((message) => (message.place.kind === 'history' ? [message.place] : []))
  const stored = await history.read(locations)
  let next = 0
  return messages.map((message) => {
    if (message.place.kind !== 'history') return structuredClone(message.place.entry)
    const entry = stored[next++]!.entry
    if (entry.id !== message.id) {
      throw new ServiceError('STORAGE', `The history file ${message.place.segment} does not match its index`)
    }
    return entry
  })
}
