/**
 * The delivery engine of a fleet: several replicas on one store, none of
 * them the only writer. Work is taken by claims (`OutboxClaims`): a replica
 * claims an account's due messages with a lease, renews the lease while it
 * works, and records each outcome only while it still holds the claim, so
 * exactly one replica works on a message at a time and the work of a
 * replica that died is taken over when its leases expire. Pacing is the
 * fleet's (`SendQuotaPort`), decided in the store; holds follow the
 * accounts in the store, so that what one replica learns every replica obeys.
 *
 * Wake-ups: a signal from any replica (`FleetSignals`, e.g. LISTEN/NOTIFY)
 * for low latency, and a poll of `upcoming()` as the backstop, since
 * signals can be lost.
 */
import { dueAt } from '../../domain/mail/claim.ts'
import type { OutboxEntry } from '../../domain/mail/record.ts'
import { createFleetAttempts } from './fleet-attempt.ts'
import { type AccountLane, FLEET_DEFAULTS, type FleetEngineOptions } from './fleet-options.ts'
import { mailAnnouncer } from './mail-announcer.ts'
import type { DeliveryEngine } from './types.ts'
import { createWaiters } from './waiters.ts'

export { FLEET_DEFAULTS, type FleetEngineOptions } from './fleet-options.ts'

export function createFleetEngine(options: FleetEngineOptions): DeliveryEngine {
  const { outbox, clock, scheduler, logger, signals } = options
  const leaseMs = options.leaseMs ?? FLEET_DEFAULTS.leaseMs
  const pollMs = options.pollMs ?? FLEET_DEFAULTS.pollMs
  const lanes = new Map<string, AccountLane>()
  const held = new Set<string>()
  const releases = new Map<string, number>()
  const waiters = createWaiters()
  /** Accepted here, not yet waited for: id → account (mail.send waits right after enqueue). */
  const accepted = new Map<string, string>()
  /** The composed bytes `enqueue` was given, until the claim that follows it is over. */
  const handed = new Map<string, Uint8Array>()
  let stopping = false
  let cancelPoll: (() => void) | undefined
  let cancelRenewal: (() => void) | undefined
  let unsubscribe: (() => void) | undefined
  let polling: Promise<void> | undefined
  let pollAgain = false

  const laneOf = (account: string): AccountLane => {
    let lane = lanes.get(account)
    if (!lane) {
      lane = { inFlight: 0, again: false, starved: false }
      lanes.set(account, lane)
    }
    return lane
  }

  const attempts = createFleetAttempts({
    ...options,
    leaseMs,
    isHeld: (account) => held.has(account),
    releasesOf: (account) => releases.get(account) ?? 0,
    isStopping: () => stopping,
    onHold: (account) => {
      if (held.has(account)) return
      held.add(account)
      logger.warn('Account needs reauthorization; its mail is held on every replica', { account })
      void holdDue(account)
    },
    onSettled: (id, entry) => waiters.resolve(id, entry),
  })

  /** Marks what the held account would send now as held, so that callers see why it waits. */
  const holdDue = (account: string): Promise<void> =>
    outbox
      .changeAccount(account, ['queued', 'scheduled'], (stored, now) =>
        stored.status === 'queued' || dueAt(stored) <= now ? { type: 'hold' } : undefined,
      )
      .then(
        () => undefined,
        (caught) => logger.error('Could not record held mail', { account, error: caught }),
      )

  /** Claims what the account may start now, up to the free slots, and starts it. */
  const claim = (account: string): Promise<void> => {
    const lane = laneOf(account)
    if (lane.claiming) {
      lane.again = true
      return lane.claiming
    }
    const run = async () => {
      do {
        lane.again = false
        const free = options.concurrency - lane.inFlight
        if (free <= 0) lane.starved = true
        if (stopping || held.has(account) || free <= 0) return
        let claimed: OutboxEntry[]
        try {
          claimed = await outbox.claimDue({ owner: options.owner, account, leaseMs, limit: free })
        } catch (caught) {
          logger.error('Could not claim due mail; will try again', { account, error: caught })
          arm(account, clock.now() + pollMs)
          return
        }
        for (const entry of claimed) {
          lane.inFlight++
          const composed = handed.get(entry.id)
          handed.delete(entry.id)
          void attempts.run(entry, composed).finally(() => {
            lane.inFlight--
            if (!lane.starved) return
            lane.starved = false
            void claim(account)
          })
        }
        if (claimed.length === free) lane.again = true
      } while (lane.again)
    }
    lane.claiming = run().finally(() => {
      delete lane.claiming
    })
    return lane.claiming
  }

  const arm = (account: string, at: number): void => {
    if (stopping) return
    const lane = laneOf(account)
    if (lane.timerAt !== undefined && lane.timerAt <= at) return
    lane.cancelTimer?.()
    lane.timerAt = at
    lane.cancelTimer = scheduler.after(Math.max(0, at - clock.now()), () => {
      delete lane.timerAt
      delete lane.cancelTimer
      void claim(account)
    })
  }

  /** Reads the accounts' statuses: a hold or release decided on another replica applies here. */
  const refreshHolds = async (): Promise<void> => {
    const states = await options.accountStates()
    for (const [account, state] of states) {
      if (state === 'connected') {
        if (held.delete(account)) releases.set(account, (releases.get(account) ?? 0) + 1)
      } else {
        held.add(account)
      }
    }
  }

  /** The backstop: what is due on any account, and when the rest comes due. */
  const poll = (): Promise<void> => {
    if (polling) {
      pollAgain = true
      return polling
    }
    const run = async () => {
      do {
        pollAgain = false
        if (stopping) return
        try {
          await refreshHolds()
          const now = clock.now()
          for (const work of await outbox.upcoming()) {
            if (held.has(work.account)) {
              if (work.nextAt <= now) await holdDue(work.account)
              continue
            }
            if (work.nextAt <= now) void claim(work.account)
            else arm(work.account, work.nextAt)
          }
        } catch (caught) {
          logger.error('Could not look for due mail; will try again', { error: caught })
        }
      } while (pollAgain)
    }
    polling = run().finally(() => {
      polling = undefined
    })
    return polling
  }

  const loopPoll = () => {
    cancelPoll = scheduler.after(pollMs, () => {
      void poll().finally(() => {
        if (!stopping) loopPoll()
      })
    })
  }
  const loopRenewal = () => {
    cancelRenewal = scheduler.after(Math.max(50, Math.floor(leaseMs / 3)), () => {
      void attempts.renewAll().finally(() => {
        if (!stopping) loopRenewal()
      })
    })
  }

  const announce = mailAnnouncer(signals)

  return {
    async start() {
      await refreshHolds()
      unsubscribe = signals.subscribe((topic, detail) => {
        if (stopping) return
        if (topic === 'mail' && detail !== undefined && !held.has(detail)) void claim(detail)
        else void poll()
      })
      await poll()
      loopPoll()
      loopRenewal()
    },

    enqueue(entry, body) {
      accepted.set(entry.id, entry.account)
      announce(entry.account)
      if (entry.status === 'queued') {
        // For this replica's claim that follows, should it take the message: not read back then.
        if (body !== undefined) handed.set(entry.id, body)
        void claim(entry.account).finally(() => handed.delete(entry.id))
      } else if (entry.status === 'scheduled' && entry.sendAt !== undefined) arm(entry.account, entry.sendAt)
    },

    async waitForAttempt(id, ms) {
      const account = accepted.get(id)
      accepted.delete(id)
      if (ms <= 0 || stopping || account === undefined) return
      const deadline = clock.now() + ms
      // This replica takes what it accepted when it has a free slot; another replica's attempt is not awaited.
      await lanes.get(account)?.claiming
      if (!attempts.has(id)) return
      const waiting = waiters.wait(id, ms)
      // Paced beyond the wait: answer now rather than wait for nothing.
      const at = await attempts.slotOf(id)
      if (at === undefined || at > deadline) {
        waiters.resolve(id)
      }
      return await waiting
    },

    async cancel(id) {
      const entry = await outbox.change(id, () => ({ type: 'cancel' }))
      waiters.resolve(id)
      return entry
    },

    async retry(id) {
      const entry = await outbox.change(id, (stored) => ({
        type: 'adminRetry',
        at: clock.now(),
        held: held.has(stored.account),
      }))
      announce(entry.account)
      void claim(entry.account)
      return entry
    },

    async hold(account) {
      held.add(account)
      await holdDue(account)
      await signals.publish('accounts', account).catch(() => undefined)
    },

    async release(account) {
      if (held.delete(account)) releases.set(account, (releases.get(account) ?? 0) + 1)
      const now = clock.now()
      const changed = await outbox.changeAccount(account, ['held'], () => ({ type: 'release', at: now }))
      await signals.publish('accounts', account).catch(() => undefined)
      void claim(account)
      return changed.length
    },

    live: (id) => attempts.live(id),

    stuckAccounts: () => attempts.stuckAccounts(),

    async stop(deadlineMs) {
      stopping = true
      cancelPoll?.()
      unsubscribe?.()
      for (const lane of lanes.values()) lane.cancelTimer?.()
      const until = Date.now() + deadlineMs
      while ([...lanes.values()].some((lane) => lane.inFlight > 0) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      cancelRenewal?.()
      attempts.stop()
    },
  }
}
