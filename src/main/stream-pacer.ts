/**
 * The stream pacer of `app/uploads/stream-pacer.ts` for Node and Deno: a
 * young-generation garbage collection (a scavenge) after every 4 MiB that
 * passed through the long streams, so that the chunks already written
 * are freed before the next ones pile up (`garbage-collector.ts`).
 */
import type { StreamPacer } from '../app/uploads/stream-pacer.ts'
import { collectYoung } from './garbage-collector.ts'

const EVERY_BYTES = 4 * 1_048_576

export function createStreamPacer(): StreamPacer {
  let since = 0
  return {
    passed(bytes) {
      since += bytes
      if (since < EVERY_BYTES) return
      since = 0
      collectYoung()
    },
  }
}
