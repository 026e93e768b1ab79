/**
 * The Gmail port, counted and timed: every `send` reports its result and
 * duration to the metrics port, then answers (or throws) exactly as the
 * port it wraps. Wrapped in the composition root, so that both delivery
 * engines are measured the same way without knowing of it.
 */
import type { GmailPort } from '../domain/ports.ts'
import { gmailResultOf, type Metrics } from './metrics.ts'

/**
 * `elapsedMs` is a monotonic clock in milliseconds (`performance.now`): a
 * duration must not jump with the wall clock.
 */
export function measuredGmail(
  gmail: GmailPort,
  metrics: Pick<Metrics, 'gmailRequest'>,
  elapsedMs: () => number,
): GmailPort {
  return {
    async send(request) {
      const start = elapsedMs()
      const seconds = () => Math.max(0, elapsedMs() - start) / 1000
      try {
        const sent = await gmail.send(request)
        metrics.gmailRequest('sent', seconds())
        return sent
      } catch (caught) {
        metrics.gmailRequest(gmailResultOf(caught), seconds())
        throw caught
      }
    },
  }
}
