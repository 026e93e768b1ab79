/** Limits of `/trpc` that the typed client must know too (so it imports nothing else of the server). */

/** The most procedure calls one batched request may carry; the typed client batches no more. */
export const MAX_BATCH_SIZE = 10
