/** The control surface of the emulator: what tests and the admin console drive it with. */
import { normalizeEmail, readAuthorizationRequest } from './authorization-request.ts'
import { allowConsent } from './consent-decision.ts'
import { type EmulatorContext, emptyStats } from './context.ts'
import { decodeGrants, encodeGrants } from './grants-codec.ts'
import { checkedLifetime, isAccessSeconds } from './refresh-lifetime.ts'
import type { EmulatorControl, EmulatorStats } from './types.ts'

export function createEmulatorControl(context: EmulatorContext): EmulatorControl {
  const resetStats = (): void => {
    Object.assign(context.stats, emptyStats())
  }
  return {
    mailbox: () => context.mailbox.list(),
    message: (id) => context.mailbox.get(id),
    mailboxRetention: () => context.mailbox.retention(),
    clearMailbox: () => context.mailbox.clear(),
    injectFaults: (endpoint, faults) => context.faults.inject(endpoint, faults),
    setFaultRate: (endpoint, rate) => context.faults.setRate(endpoint, rate),
    setQuota: (quota) => context.quota.set(quota),
    revokeAccount: (email) => context.oauth.revokeAccount(email),
    expireAccessTokens: () => context.oauth.expireAccessTokens(),
    setRefreshTokenLifetime: (lifetime) => {
      context.refreshTokenLifetime = checkedLifetime(lifetime)
    },
    approveConsent: async (authorizationUrl, email, choice = {}) => {
      if (!URL.canParse(authorizationUrl)) throw new Error('The authorization URL is not a URL')
      const check = readAuthorizationRequest(new URL(authorizationUrl).searchParams, context.clients)
      if (!check.ok) throw new Error(`Authorization request refused (${check.error}): ${check.description}`)
      const account = normalizeEmail(email)
      if (account === undefined) throw new Error('Consent needs a valid email address')
      if (choice.accessSeconds !== undefined && !isAccessSeconds(choice.accessSeconds))
        throw new Error('Time-based access must be a whole number of seconds, at most a year')
      return allowConsent(context, check.request, account, choice)
    },
    stats: (): EmulatorStats => structuredClone(context.stats),
    reset: () => {
      context.oauth.clear()
      context.mailbox.clear()
      context.faults.clear()
      context.quota.clear()
      resetStats()
    },
    exportGrants: () => encodeGrants(context.oauth.snapshot()),
    importGrants: (data) => context.oauth.restore(decodeGrants(data)),
  }
}
