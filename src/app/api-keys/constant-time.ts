/** Comparison of secret digests that does not stop at the first difference. */

/** Equal strings (of hex digits), compared without early exit, so that timing tells nothing of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let index = 0; index < a.length; index++) difference |= a.charCodeAt(index) ^ b.charCodeAt(index)
  return difference === 0
}
