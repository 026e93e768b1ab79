/**
 * Sorted arrays with binary search: the outbox's orderings stay sorted on
 * every change, and new messages land at the end, where a splice is cheap.
 */

/** A message's place in the outbox order: creation time, then id. */
export interface OrderKey {
  createdAt: number
  id: string
}

export function compareOrderKeys(left: OrderKey, right: OrderKey): number {
  if (left.createdAt !== right.createdAt) return left.createdAt - right.createdAt
  if (left.id === right.id) return 0
  return left.id < right.id ? -1 : 1
}

/** The first position whose item is not before `item`. */
export function lowerBound<T>(items: readonly T[], item: T, compare: (left: T, right: T) => number): number {
  let low = 0
  let high = items.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (compare(items[middle]!, item) < 0) low = middle + 1
    else high = middle
  }
  return low
}

export function insertSorted<T>(items: T[], item: T, compare: (left: T, right: T) => number): void {
  items.splice(lowerBound(items, item, compare), 0, item)
}

/** Removes one item equal to `item`, if there is one. */
export function removeSorted<T>(items: T[], item: T, compare: (left: T, right: T) => number): void {
  const position = lowerBound(items, item, compare)
  if (position < items.length && compare(items[position]!, item) === 0) items.splice(position, 1)
}

export function compareNumbers(left: number, right: number): number {
  return left - right
}
