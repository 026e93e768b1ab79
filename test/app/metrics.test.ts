/**
 * What the use cases tell the metrics port: the Gmail port's results and
 * durations (from the adapter's error codes), each delivery attempt's
 * recorded outcome on the one-process engine, and token refreshes by
 * outcome. (The fleet engine's outcomes: test/app/fleet-engine.test.ts.)
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, readConfig } from '../../src/app/config.ts'
import { createCredentialSessions } from '../../src/app/credential-sessions.ts'
import { createDeliveryEngine } from '../../src/app/delivery/engine.ts'
import { silentLogger } from '../../src/app/logger.ts'
import { measuredGmail } from '../../src/app/measured-gmail.ts'
import type { Metrics } from '../../src/app/metrics.ts'
import type { Account, GrantedTokens } from '../../src/domain/credentials/account.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import type { OutboxEntry } from '../../src/domain/mail/record.ts'
import { manualTime } from '../fakes/clock.ts'
import { fakeGmail, invalidGrant, rateLimited, rejected, unavailable } from '../fakes/gmail.ts'
import { memoryOutbox } from '../fakes/repositories.ts'

function recording() {
  const calls: string[] = []
  const metrics: Metrics = {
    messageOutcome: (outcome) => calls.push(`message ${outcome}`),
    gmailRequest: (result, seconds) => calls.push(`gmail ${result} ${seconds}`),
    tokenRefresh: (outcome) => calls.push(`refresh ${outcome}`),
    webhookDelivery: (outcome) => calls.push(`webhook ${outcome}`),
  }
  return { calls, metrics }
}

describe('measuredGmail', () => {
  it('reports each call with its result label and duration, and answers or throws as the port did', async () => {
    const { calls, metrics } = recording()
    const gmail = fakeGmail()
    let elapsed = 1_000
    const measured = measuredGmail(
      {
        async send(request) {
          elapsed += 250
          return gmail.send(request)
        },
      },
      metrics,
      () => elapsed,
    )
    const request = { account: 'support@example.com', raw: new TextEncoder().encode('x') }
    expect(await measured.send(request)).toEqual({ id: 'gm-1', threadId: 'th-gm-1' })
    const failures = [
      rateLimited(),
      new ServiceError('GMAIL_DAILY_LIMIT', 'Gmail said dailyLimitExceeded', { retryable: true }),
      unavailable(),
      rejected(),
      new ServiceError('NETWORK', 'Could not reach Gmail', { retryable: true }),
      invalidGrant(),
      new ServiceError('CONFIG', "Google's token endpoint refused the OAuth client"),
    ]
    for (const failure of failures) {
      gmail.failNext(failure)
      await expect(measured.send(request)).rejects.toBe(failure)
    }
    gmail.failNext(new Error('not a ServiceError') as ServiceError)
    await expect(measured.send(request)).rejects.toThrow('not a ServiceError')
    expect(calls).toEqual([
      'gmail sent 0.25',
      'gmail rate_limited 0.25',
      'gmail rate_limited 0.25',
      'gmail unavailable 0.25',
      'gmail rejected 0.25',
      'gmail network 0.25',
      'gmail reauthorization_required 0.25',
      'gmail error 0.25',
      'gmail error 0.25',
    ])
  })
})

describe('the delivery engine and the metrics port', () => {
  it('reports each attempt once its outcome is recorded: retry, sent, failed, held', async () => {
    const { calls, metrics } = recording()
    const time = manualTime()
    const gmail = fakeGmail()
    const outbox = memoryOutbox(time)
    const engine = createDeliveryEngine({
      outbox,
      gmail,
      clock: time,
      scheduler: time,
      random: () => 0.5,
      logger: silentLogger,
      limits: { perMinute: 0, perDay: 0 },
      concurrency: 1,
      giveUpAfterMs: 86_400_000,
      onReauthorizationRequired: (account) => void engine.hold(account),
      metrics,
    })
    const entry = (id: string): OutboxEntry => ({
      id,
      account: 'support@example.com',
      from: 'support@example.com',
      to: ['ann@example.com'],
      cc: [],
      bcc: [],
      subject: id,
      status: 'queued',
      createdAt: time.now(),
      attempts: 0,
      attemptLog: [],
      size: 1,
      messageId: `<${id}@example.com>`,
      updatedAt: time.now(),
    })
    const send = async (id: string) => {
      const [accepted] = await outbox.accept([{ entry: entry(id), raw: new TextEncoder().encode('x') }])
      engine.enqueue(accepted!.entry)
      await time.advance(60_000)
    }
    gmail.failNext(unavailable())
    await send('retried-then-sent')
    gmail.failNext(rejected())
    await send('rejected')
    gmail.failNext(invalidGrant())
    await send('held')
    expect((await outbox.get('held'))?.status).toBe('held')
    expect(calls).toEqual(['message retry', 'message sent', 'message failed', 'message held'])
    await engine.stop(0)
  })
})

describe('credential sessions and the metrics port', () => {
  const HOUR = 3_600_000
  const account = (overrides: Partial<Account> = {}): Account => ({
    email: 'ann@example.com',
    status: 'connected',
    scopes: [],
    isDefault: true,
    connectedAt: 0,
    refreshToken: '1//refresh',
    ...overrides,
  })
  type Client = { report: (tokens: GrantedTokens) => void }

  function sessionsWith(refresh: (client: Client) => Promise<void>, stored: Account) {
    const { calls, metrics } = recording()
    const time = manualTime()
    const sessions = createCredentialSessions<Client>({
      getAccount: async () => stored,
      createClient: (_credentials, onTokens) => ({ report: onTokens }),
      refresh,
      onTokens: () => {},
      clock: time,
      metrics,
    })
    return { calls, sessions, time }
  }
  const grant = (client: Client) =>
    client.report({ accessToken: 'ya29.new', expiresAt: Date.now() + HOUR, scopes: [] })

  it('counts a refresh it makes once as ok, and a refresh the client makes by itself (after a 401) too', async () => {
    const { calls, sessions } = sessionsWith(async (client) => grant(client), account())
    const made = await sessions.clientFor('ann@example.com')
    expect(calls).toEqual(['refresh ok'])
    grant(made)
    expect(calls).toEqual(['refresh ok', 'refresh ok'])
  })

  it('counts a refused refresh token as reauthorization_required and any other failure as failed', async () => {
    const refused = sessionsWith(async () => {
      throw invalidGrant()
    }, account())
    await expect(refused.sessions.clientFor('ann@example.com')).rejects.toMatchObject({
      code: 'REAUTHORIZATION_REQUIRED',
    })
    expect(refused.calls).toEqual(['refresh reauthorization_required'])
    const away = sessionsWith(async () => {
      throw new ServiceError('NETWORK', "Could not reach Google's token endpoint", { retryable: true })
    }, account())
    await expect(away.sessions.clientFor('ann@example.com')).rejects.toMatchObject({ code: 'NETWORK' })
    expect(away.calls).toEqual(['refresh failed'])
  })

  it('counts nothing when a stored access token is still fresh', async () => {
    const { calls, sessions, time } = sessionsWith(
      async () => {
        throw new Error('no refresh expected')
      },
      account({ accessToken: 'ya29.stored', accessTokenExpiresAt: Date.UTC(2030, 0, 1) }),
    )
    expect(time.now()).toBeLessThan(Date.UTC(2030, 0, 1))
    await sessions.clientFor('ann@example.com')
    expect(calls).toEqual([])
  })
})

describe('METRICS_TOKEN', () => {
  it('is optional, and refused when shorter than 16 characters without echoing it', () => {
    expect(readConfig({}).metricsToken).toBeUndefined()
    expect(readConfig({ METRICS_TOKEN: 'scrape-token-0123456789' }).metricsToken).toBe(
      'scrape-token-0123456789',
    )
    expect(() => readConfig({ METRICS_TOKEN: 'short-secret' })).toThrow(
      new ConfigError('METRICS_TOKEN is invalid: must be at least 16 characters'),
    )
  })
})
