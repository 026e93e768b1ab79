/**
 * The webhook dispatcher: claims due deliveries from the `WebhookStore`
 * with a lease (one process at a time per delivery, taken over when a
 * process dies and its lease runs out), sends each signed attempt with
 * bounded concurrency, and settles it by the retry policy
 * (`domain/webhooks/retry.ts`). Delivery is at least once: an attempt whose
 * outcome could not be recorded is made again after the lease expires,
 * under the same `webhook-id`.
 *
 * Cost per event, for a backlog: claims come in batches (up to twice the
 * concurrency claimed, the second half waiting for a slot; a new claim once
 * half the concurrency has room), so a claim serves several deliveries; an
 * attempt's slot is free once it is answered, its settle going on beside
 * the next attempt (the stores group concurrent settles into one write).
 * Neither weakens a guarantee: a claimed delivery waits at most one
 * attempt before its own starts, within its lease, and stays claimed until
 * its settle is written.
 *
 * Wake-ups: `nudge()` when events were published (in this process, or on
 * PostgreSQL by any replica's triggers, through NOTIFY), and a poll every
 * `pollMs` (sooner when `nextDueAt` says so), since a notification can be
 * lost.
 */
import type { Clock } from '../../domain/ports.ts'
import { attemptRecord, type DeliveryJob } from '../../domain/webhooks/event.ts'
import type { WebhookStore } from '../../domain/webhooks/ports.ts'
import { afterAttempt, type WebhookAnswer, type WebhookRetryPolicy } from '../../domain/webhooks/retry.ts'
import { type WebhookSender, webhookBody } from '../../domain/webhooks/sender.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { Scheduler } from '../scheduler.ts'

export interface WebhookDispatcherOptions {
  store: WebhookStore
  sender: WebhookSender
  clock: Clock
  scheduler: Scheduler
  random: () => number
  logger: Logger
  /** This process's name in claims (the replica's owner on PostgreSQL). */
  owner: string
  policy: WebhookRetryPolicy
  /** One attempt's time limit (`WEBHOOK_TIMEOUT_MS`): a lease outlasts it with room to settle. */
  timeoutMs: number
  /** Attempts in flight at once (default 8). */
  concurrency?: number
  /** The longest sleep between two looks at the store (default 1 s). */
  pollMs?: number
  /**
   * How long a claim lasts (default twice the time limit plus 5 s: a claimed
   * delivery waits for a slot at most one attempt, then has its own).
   */
  leaseMs?: number
  metrics?: Pick<Metrics, 'webhookDelivery'>
}

export interface WebhookDispatcher {
  start(): void
  /** Looks for due deliveries now (events were just published). */
  nudge(): void
  /**
   * Claims nothing more; waits up to `timeoutMs` for the attempts in flight
   * to finish and be recorded. Any still running are left to their leases.
   */
  stop(timeoutMs: number): Promise<void>
}

export const DISPATCHER_DEFAULTS = { concurrency: 8, pollMs: 1_000 } as const

export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { store, sender, clock, scheduler, logger, owner, policy } = options
  const concurrency = Math.max(1, options.concurrency ?? DISPATCHER_DEFAULTS.concurrency)
  const pollMs = options.pollMs ?? DISPATCHER_DEFAULTS.pollMs
  const leaseMs = options.leaseMs ?? options.timeoutMs * 2 + 5_000
  /** Attempts waiting for their answer: at most `concurrency`. */
  const inFlight = new Set<Promise<void>>()
  /** Answered attempts being recorded (settles share a write): as many at most, or no new attempt starts. */
  const recording = new Set<Promise<void>>()
  /** Claimed and not started yet: at most `concurrency`, each started within one attempt's time. */
  const ready: Array<{ job: DeliveryJob; leaseEnds: number }> = []
  /** The fewest deliveries worth a claim while others are running. */
  const minClaim = Math.ceil(concurrency / 2)
  let started = false
  let stopping = false
  let looking: Promise<void> | undefined
  let lookAgain = false
  let cancelTimer: (() => void) | undefined
  let storeAway = false

  let timerAt = 0

  const arm = (delayMs: number) => {
    if (stopping) return
    const at = clock.now() + Math.max(0, Math.min(pollMs, delayMs))
    // A look set for no later is kept: a busy backlog arms no timer per attempt.
    if (cancelTimer !== undefined && timerAt <= at) return
    cancelTimer?.()
    timerAt = at
    cancelTimer = scheduler.after(at - clock.now(), () => {
      cancelTimer = undefined
      look()
    })
  }

  /** One look at a time; a nudge during a look makes it look once more. */
  const look = () => {
    if (stopping || !started) return
    if (looking) {
      lookAgain = true
      return
    }
    looking = claimAndSend()
      .then(
        (delayMs) => {
          if (storeAway) logger.info('Webhook deliveries can be claimed again')
          storeAway = false
          return delayMs
        },
        () => {
          // Once per outage, not once per poll.
          if (!storeAway) logger.warn('Could not claim webhook deliveries; trying again every poll')
          storeAway = true
          return pollMs
        },
      )
      .then((delayMs) => {
        looking = undefined
        if (lookAgain) {
          lookAgain = false
          look()
        } else arm(delayMs)
      })
  }

  /**
   * Claims what the free slots can take and as many again to start as
   * slots free (one round trip for several deliveries instead of one per
   * finished attempt); returns how long to sleep before looking again.
   */
  const claimAndSend = async (): Promise<number> => {
    for (;;) {
      if (stopping) return pollMs
      startReady()
      const room = 2 * concurrency - inFlight.size - ready.length
      // Enough claimed: a finishing attempt looks again.
      if (room < minClaim && inFlight.size + ready.length > 0) return pollMs
      const jobs = await store.claimDue({ owner, now: clock.now(), leaseMs, limit: room })
      const claimedAt = clock.now()
      for (const job of jobs) ready.push({ job, leaseEnds: claimedAt + leaseMs })
      startReady()
      if (jobs.length < room) break
    }
    const next = await store.nextDueAt()
    return next === undefined ? pollMs : next - clock.now()
  }

  /**
   * Starts claimed deliveries while slots are free (during a stop too: a
   * claim answered is sent rather than left to wait for its lease). One whose
   * lease could run out before its attempt's time limit is left to the lease.
   */
  const startReady = () => {
    while (inFlight.size < concurrency && recording.size < concurrency && ready.length > 0) {
      const { job, leaseEnds } = ready.shift()!
      if (clock.now() + options.timeoutMs < leaseEnds) track(job)
    }
  }

  /** The slot is free once the answer is in; its recording goes on beside the next attempt. */
  const track = (job: DeliveryJob) => {
    const sending = attempt(job).then(({ recorded }) => {
      recording.add(recorded)
      void recorded.finally(() => {
        recording.delete(recorded)
        startReady()
      })
    })
    inFlight.add(sending)
    void sending.finally(() => {
      inFlight.delete(sending)
      startReady()
      look()
    })
  }

  /** Sends one attempt; resolves once it is answered, with the recording of its outcome under way. */
  const attempt = async (job: DeliveryJob): Promise<{ recorded: Promise<void> }> => {
    const startedAt = clock.now()
    const answer = await sender.send({
      url: job.endpoint.url,
      secret: job.endpoint.secret,
      id: job.event.id,
      timestamp: Math.floor(startedAt / 1000),
      body: webhookBody(job.event),
    })
    return { recorded: record(job, answer, startedAt) }
  }

  /** Settles an answered attempt by the retry policy, then counts and logs it. */
  const record = async (job: DeliveryJob, answer: WebhookAnswer, startedAt: number): Promise<void> => {
    const now = clock.now()
    const step = afterAttempt(
      answer,
      { attemptsBefore: job.attempts, firstDueAt: job.firstDueAt },
      { now, random: options.random, policy },
    )
    const made = attemptRecord(job, {
      at: startedAt,
      ...answer,
      ok: 'status' in answer && answer.status >= 200 && answer.status < 300,
      durationMs: Math.max(0, now - startedAt),
    })
    const fields = {
      endpoint: job.endpoint.id,
      event: job.event.id,
      delivery: job.id,
      attempt: job.attempts + 1,
    }
    const next =
      'retryAt' in step ? step : { done: step.done === 'gone' ? ('delivered' as const) : step.done }
    let settled = false
    try {
      settled = await store.settle({ owner, deliveryId: job.id, attempt: made, next })
    } catch {
      logger.warn('Could not record a webhook attempt; it is made again when its claim expires', fields)
    }
    if (!settled) logger.info('A webhook claim was lost before its attempt was recorded', fields)
    const outcome = 'retryAt' in step ? 'retry' : step.done === 'gone' ? 'disabled' : step.done
    options.metrics?.webhookDelivery(outcome)
    const answered = 'status' in answer ? { status: answer.status } : { error: answer.error }
    if (outcome === 'delivered') logger.debug('Webhook delivered', { ...fields, ...answered })
    else if (outcome === 'retry')
      logger.info('Webhook attempt failed; retrying', {
        ...fields,
        ...answered,
        retryAt: (step as { retryAt: number }).retryAt,
      })
    else if (outcome === 'gave_up')
      logger.warn('Webhook delivery given up after 24 hours of retries', { ...fields, ...answered })
    if (outcome === 'disabled') {
      // The receiver said 410 Gone: it wants nothing more, whoever holds the claim now.
      await store
        .disableEndpoint(job.endpoint.id, now, 'The endpoint answered 410 Gone')
        .then(() => logger.warn('Webhook endpoint disabled: it answered 410 Gone', fields))
        .catch(() => logger.warn('Could not disable a webhook endpoint that answered 410', fields))
    }
  }

  return {
    start() {
      if (started) return
      started = true
      look()
    },
    nudge: () => look(),
    async stop(timeoutMs) {
      stopping = true
      cancelTimer?.()
      cancelTimer = undefined
      if (timeoutMs <= 0) return
      let cancelDeadline: (() => void) | undefined
      const deadline = new Promise<void>((resolve) => {
        cancelDeadline = scheduler.after(timeoutMs, resolve)
      })
      const drained = (async () => {
        await looking
        // A claim answered during the stop is sent too: its lease would only make it wait.
        while (inFlight.size > 0 || recording.size > 0 || ready.length > 0) {
          startReady()
          await Promise.allSettled([...inFlight, ...recording])
        }
      })()
      await Promise.race([drained, deadline])
      cancelDeadline?.()
    },
  }
}
