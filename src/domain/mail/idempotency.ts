/**
 * Idempotent acceptance, the rules every store applies in its one atomic
 * step (`OutboxRepository.accept`): a key accepted within the window gives
 * the earlier message back when the input is the same, and refuses the
 * call (CONFLICT) when it differs. Pure.
 */
import { ServiceError } from '../errors.ts'
import type { OutboxEntry } from './record.ts'

/** How long an idempotency key counts (the contract's 24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000

/**
 * The idempotency key as stored: `<API key id>:<key>`, so that each API key
 * has its own keys (a second key's `invoice-1` is another message, and
 * cannot make the first key's replay answer CONFLICT). Key ids hold no
 * colon, so the first one ends the namespace. Messages accepted without a
 * caller (and before keys had namespaces) keep the bare key.
 */
export function namespacedKey(apiKeyId: string, key: string): string {
  return `${apiKeyId}:${key}`
}

/** The idempotency key as its caller gave it (without the namespace of `namespacedKey`). */
export function callerIdempotencyKey(
  entry: Pick<OutboxEntry, 'idempotencyKey' | 'apiKeyId'>,
): string | undefined {
  const { idempotencyKey: key, apiKeyId } = entry
  if (key === undefined || apiKeyId === undefined || !key.startsWith(`${apiKeyId}:`)) return key
  return key.slice(apiKeyId.length + 1)
}

/** The refusal of a key used for another message. */
export function keyConflict(key: string): ServiceError {
  return new ServiceError(
    'CONFLICT',
    `The idempotency key ${JSON.stringify(key)} was used in the last 24 hours with a different message`,
  )
}

/** Whether `incoming` repeats `earlier` (same key, same input), else throws the key's CONFLICT. */
export function assertSameInput(earlier: Pick<OutboxEntry, 'inputHash'>, incoming: OutboxEntry): void {
  if ((earlier.inputHash ?? '') !== (incoming.inputHash ?? ''))
    throw keyConflict(incoming.idempotencyKey ?? '')
}

/**
 * Folds repeats of one key within a call: the first message of each key
 * stays (`unique`), a later one with the same input becomes a pointer to
 * it (`sameAs[i]` = index in `unique`), one with another input is CONFLICT.
 */
export function foldRepeatedKeys<T extends { entry: OutboxEntry }>(
  messages: readonly T[],
): { unique: T[]; sameAs: number[] } {
  const unique: T[] = []
  const sameAs: number[] = []
  const firstOfKey = new Map<string, number>()
  for (const message of messages) {
    const key = message.entry.idempotencyKey
    const first = key === undefined ? undefined : firstOfKey.get(key)
    if (first !== undefined) {
      assertSameInput(unique[first]!.entry, message.entry)
      sameAs.push(first)
      continue
    }
    if (key !== undefined) firstOfKey.set(key, unique.length)
    sameAs.push(unique.length)
    unique.push(message)
  }
  return { unique, sameAs }
}
