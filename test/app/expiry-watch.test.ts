import { describe, expect, it } from 'vitest'
import { toAccountStatus } from '../../src/app/account-status.ts'
import { createAccountService } from '../../src/app/accounts.ts'
import { createAuthorization } from '../../src/app/authorization.ts'
import { createExpiryWatch, expiringAccounts, expiryWarnings } from '../../src/app/expiry-watch.ts'
import type { Logger } from '../../src/app/logger.ts'
import { memoryAuthorizationStates } from '../../src/app/memory-authorization-states.ts'
import type { Account } from '../../src/domain/credentials/account.ts'
import { manualTime } from '../fakes/clock.ts'
import { fakeOAuth, SEND_SCOPES } from '../fakes/oauth.ts'
import { memoryAccounts } from '../fakes/repositories.ts'

const day = 86_400_000
const minute = 60_000

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = []
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields ? { fields } : {}) })
    }
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { logger, lines }
}

function setup(options: { appTesting?: boolean } = {}) {
  const time = manualTime()
  const oauth = fakeOAuth()
  const repo = memoryAccounts()
  const saves: Account[] = []
  const watched = {
    ...repo,
    save: async (account: Account) => {
      saves.push(account)
      await repo.save(account)
    },
  }
  const { logger, lines } = recordingLogger()
  const accounts = createAccountService({
    accounts: watched,
    oauth,
    clock: time,
    logger,
    listener: { connected() {}, reauthorizationRequired() {}, disconnected() {} },
  })
  const authorization = createAuthorization({
    oauth,
    accounts,
    clock: time,
    logger,
    states: memoryAuthorizationStates(),
    newState: () => `state-${saves.length}-${time.now()}`,
    onConnected: async () => 0,
    ...(options.appTesting === undefined ? {} : { appTesting: options.appTesting }),
  })
  const watch = createExpiryWatch({ accounts, clock: time, scheduler: time, logger })
  const connect = async () => {
    const started = await authorization.start({})
    oauth.nextGrant = { accessToken: 'at', refreshToken: 'rt-secret-1', scopes: SEND_SCOPES }
    return authorization.complete({ state: started.state, cookieState: started.state, code: 'c' })
  }
  const warnings = () => lines.filter((line) => line.level === 'warn')
  return { time, repo, saves, lines, logger, warnings, accounts, watch, connect }
}

describe('the expiry watch', () => {
  it('warns once, 24 h before the 7 days of an app in Testing end, recording the deadline warned for', async () => {
    const s = setup({ appTesting: true })
    const connectedAt = s.time.now()
    expect((await s.connect()).kind).toBe('connected')
    const deadline = connectedAt + 7 * day
    expect((await s.repo.get('support@example.com'))?.refreshTokenExpiresAt).toBe(deadline)
    expect(toAccountStatus((await s.repo.get('support@example.com'))!).expiresAt).toBe(
      new Date(deadline).toISOString(),
    )

    s.watch.start()
    await s.time.advance(6 * day - minute)
    expect(s.warnings()).toEqual([])
    expect((await s.repo.get('support@example.com'))?.expiryWarnedFor).toBeUndefined()

    await s.time.advance(2 * minute)
    expect((await s.repo.get('support@example.com'))?.expiryWarnedFor).toBe(deadline)
    expect(s.warnings()).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('must reauthorize it'),
        fields: {
          account: 'support@example.com',
          expiresAt: new Date(deadline).toISOString(),
          minutesLeft: 1440,
        },
      },
    ])
    expect(JSON.stringify(s.lines)).not.toContain('rt-secret')

    const savesAfterWarning = s.saves.length
    await s.time.advance(30 * minute)
    expect(s.warnings()).toHaveLength(1)
    expect(s.saves).toHaveLength(savesAfterWarning)
    await s.watch.stop()
    await s.time.advance(10 * minute)
    expect(s.time.pendingTimers()).toBe(0)
  })

  it('warns again for the new deadline a reauthorization brings, and never without a deadline', async () => {
    const s = setup({ appTesting: true })
    await s.connect()
    await s.time.advance(6 * day + minute)
    expect(await s.watch.check()).toEqual(['support@example.com'])
    await s.connect()
    expect(await s.watch.check()).toEqual([])
    await s.time.advance(6 * day + minute)
    expect(await s.watch.check()).toEqual(['support@example.com'])
    expect(s.warnings()).toHaveLength(2)

    const published = setup({ appTesting: false })
    await published.connect()
    await published.time.advance(400 * day)
    expect(await published.watch.check()).toEqual([])
    expect((await published.repo.get('support@example.com'))?.refreshTokenExpiresAt).toBeUndefined()
  })

  it('gives the warning once when two watches (two replicas) look at the same moment', async () => {
    const s = setup({ appTesting: true })
    await s.connect()
    await s.time.advance(6 * day + minute)
    const other = createExpiryWatch({
      accounts: s.accounts,
      clock: s.time,
      scheduler: s.time,
      logger: s.logger,
    })
    const [first, second] = await Promise.all([s.watch.check(), other.check()])
    expect([...first, ...second]).toEqual(['support@example.com'])
    expect(s.warnings()).toHaveLength(1)
    expect(await s.watch.check()).toEqual([])
  })

  it('does not warn for an account that is not connected, nor for a deadline that changed meanwhile', async () => {
    const s = setup({ appTesting: true })
    await s.connect()
    const deadline = (await s.repo.get('support@example.com'))!.refreshTokenExpiresAt!
    await s.time.advance(6 * day + minute)
    expect(await s.accounts.markExpiryWarned('support@example.com', deadline + 1)).toBe(false)
    await s.accounts.markReauthorizationRequired('support@example.com')
    expect(await s.watch.check()).toEqual([])
    expect(await s.accounts.markExpiryWarned('support@example.com', deadline)).toBe(false)
  })
})

describe('expiryWarnings (what /readyz says)', () => {
  const account = (email: string, extra: Partial<Account>): Account => ({
    email,
    status: 'connected',
    scopes: SEND_SCOPES,
    isDefault: false,
    connectedAt: 0,
    ...extra,
  })
  const now = 100 * day

  it('counts the accounts whose access ends within 24 h and names none of them', () => {
    const accounts = [
      account('ann@example.com', { refreshTokenExpiresAt: now + day - 1 }),
      account('bob@example.com', { refreshTokenExpiresAt: now + day + 1 }),
      account('cy@example.com', { refreshTokenExpiresAt: now - 1 }),
      account('dee@example.com', {}),
      account('eve@example.com', { status: 'reauthorization_required', refreshTokenExpiresAt: now }),
    ]
    expect(expiringAccounts(accounts, now).map((each) => each.email)).toEqual([
      'ann@example.com',
      'cy@example.com',
    ])
    expect(expiryWarnings(accounts, now)).toEqual([
      "2 accounts' Google access ends within 24 h; reauthorize at /admin",
    ])
    expect(expiryWarnings(accounts.slice(0, 2), now)).toEqual([
      "An account's Google access ends within 24 h; reauthorize at /admin",
    ])
    expect(expiryWarnings(accounts.slice(1, 2), now)).toEqual([])
    expect(expiryWarnings(accounts, now).join()).not.toContain('example')
  })
})
