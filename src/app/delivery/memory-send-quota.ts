/**
 * The send quota of one process (lowdb mode, tests): the GCRA of
 * `domain/delivery/gcra.ts` over a map, and the sends of the last 24 h per
 * account in memory. Same contract as the PostgreSQL adapter
 * (test/contracts/send-quota.contract.ts), for a fleet of one.
 */
import {
  blockUntil,
  dailyDeferral,
  gcraRate,
  type PacingState,
  reserveSlot,
} from '../../domain/delivery/gcra.ts'
import { DAY_MS } from '../../domain/delivery/pacing.ts'
import type { Clock, SendQuotaPort, SendReservation } from '../../domain/ports.ts'

interface AccountQuota {
  pacing: PacingState
  /** Message id → counted send time, in insertion (time) order. */
  sends: Map<string, number>
}

export function memorySendQuota(clock: Clock): SendQuotaPort {
  const accounts = new Map<string, AccountQuota>()
  const quotaOf = (account: string): AccountQuota => {
    let quota = accounts.get(account)
    if (quota === undefined) {
      quota = { pacing: {}, sends: new Map() }
      accounts.set(account, quota)
    }
    return quota
  }
  const prune = (quota: AccountQuota, now: number) => {
    for (const [id, at] of quota.sends) {
      if (at > now - DAY_MS) break
      quota.sends.delete(id)
    }
  }
  return {
    async reserve({ account, messageId, limits }): Promise<SendReservation> {
      const now = clock.now()
      const quota = quotaOf(account)
      prune(quota, now)
      const counted = quota.sends.has(messageId)
      if (!counted) {
        const oldest = quota.sends.values().next().value
        const retryAt = dailyDeferral(quota.sends.size, oldest, now, limits.perDay)
        if (retryAt !== undefined) return { granted: false, reason: 'daily_limit', retryAt }
      }
      const { at, next } = reserveSlot(quota.pacing, now, gcraRate(limits))
      quota.pacing = next
      if (!counted) quota.sends.set(messageId, at)
      return { granted: true, at }
    },
    async block(account, untilMs, limits) {
      const quota = quotaOf(account)
      quota.pacing = blockUntil(quota.pacing, untilMs, gcraRate(limits))
    },
    async sentToday(account) {
      const quota = accounts.get(account)
      if (quota === undefined) return 0
      prune(quota, clock.now())
      return quota.sends.size
    },
  }
}
