/**
 * Token refresh under load: 1,000 concurrent `mail.send` calls on a service
 * whose stored access token has expired (it restarted after the hour was
 * up) must cause exactly one refresh at Google's token endpoint: the
 * correctness check is the emulator's token-call delta === 1. The figure is
 * the throughput of those 1,000 sends against 1,000 sends after a restart
 * with a live token, side by side, round by round.
 *
 * Run alone: `node_modules/.bin/node bench/token-refresh.ts [--full]`.
 */
import { openAccountRepository } from '../src/adapters/lowdb/account-store.ts'
import { createTokenCipher, parseEncryptionKeys } from '../src/adapters/lowdb/token-cipher.ts'
import { startService } from '../test/support/service.ts'
import { type BenchResult, formatStats, stats } from './lib.ts'
import {
  BENCH_ENCRYPTION_KEY,
  deliveredCount,
  type RunningEmulator,
  realModeEnv,
  startConnectedService,
  startEmulator,
  unbatchedClient,
} from './support.ts'

const ACCOUNT = 'refresh@example.com'
const CONCURRENT_SENDS = 1000
const TARGET = 0.8
const ENV = {
  GMAIL_SENDS_PER_MINUTE: '0',
  GMAIL_SENDS_PER_DAY: '0',
  SEND_WAIT_MS: '120000',
  // Many sends in flight at once, so that many of them find the token expired together.
  SEND_CONCURRENCY: '64',
}

export async function benchTokenRefresh(options: { quick: boolean }): Promise<BenchResult> {
  const rounds = options.quick ? 3 : 5
  const emulator = await startEmulator()
  const first = await startConnectedService(emulator, ACCOUNT, ENV)
  const dataDir = first.dataDir
  await first.stop({ keepData: true })
  try {
    const rates = { live: [] as number[], expired: [] as number[] }
    const refreshes = { live: [] as number[], expired: [] as number[] }
    const problems: string[] = []
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['live', 'expired'] as const) : (['expired', 'live'] as const)
      for (const side of order) {
        const outcome = await burst(emulator, dataDir, side === 'expired')
        rates[side].push(outcome.perSecond)
        refreshes[side].push(outcome.refreshes)
        if (outcome.unsent > 0)
          problems.push(
            `round ${round + 1} ${side}: ${outcome.unsent} sends not sent (${outcome.problems.join('; ')})`,
          )
      }
    }
    const ratios = rates.expired.map((rate, index) => rate / rates.live[index]!)
    const ratio = stats(ratios).median
    const correct = problems.length === 0 && refreshes.expired.every((count) => count === 1)
    return {
      name: `token refresh: ${CONCURRENT_SENDS} concurrent sends on an expired token vs a live one (throughput ratio)`,
      ratio,
      target: `>= ${TARGET}`,
      met: ratio >= TARGET,
      correct,
      lines: [
        `token requests per burst: expired ${refreshes.expired.join(', ')} (must be 1 each); live ${refreshes.live.join(', ')}`,
        `expired token: ${formatStats(rates.expired, 'sends/s')}`,
        `live token:    ${formatStats(rates.live, 'sends/s')}`,
        `ratio per round: ${formatStats(ratios, '', 2)}`,
        ...problems,
      ],
    }
  } finally {
    await emulator.close()
    await import('node:fs/promises').then((fs) => fs.rm(dataDir, { recursive: true, force: true }))
  }
}

/**
 * Starts the service on `dataDir` (its access token made expired first when
 * `expired`), fires the sends at once, and counts the token requests.
 */
async function burst(emulator: RunningEmulator, dataDir: string, expired: boolean) {
  const control = emulator.emulator.control
  if (expired) {
    // As after an hour: Google no longer takes the token, and the stored expiry is past.
    control.expireAccessTokens()
    await expireStoredToken(dataDir)
  }
  const running = await startService(realModeEnv(emulator, ENV), { dataDir })
  try {
    const client = unbatchedClient(running)
    const before = control.stats().calls.token
    const started = performance.now()
    const problems = new Set<string>()
    const records = await Promise.all(
      Array.from({ length: CONCURRENT_SENDS }, (_, index) =>
        client.mail.send.mutate({ to: 'ann@example.com', subject: `Burst ${index}`, text: 'Hello.' }).then(
          (record) => {
            // `queued` after an attempt: a transient failure the service retries; delivery is checked below.
            const late = record.status === 'queued' && record.attempts > 0
            if (record.status !== 'sent' && !late)
              problems.add(`${record.status} after ${record.attempts} attempts`)
            return record.status === 'sent' || late
          },
          (error: Error) => {
            problems.add(`${error.name}: ${error.message}`)
            return false
          },
        ),
      ),
    )
    const elapsed = performance.now() - started
    const delivered = await deliveredCount(emulator, ACCOUNT, CONCURRENT_SENDS)
    const refreshes = control.stats().calls.token - before
    control.clearMailbox()
    if (delivered !== CONCURRENT_SENDS) problems.add(`${delivered} delivered`)
    return {
      perSecond: (CONCURRENT_SENDS * 1000) / elapsed,
      refreshes,
      unsent: records.filter((ok) => !ok).length + (CONCURRENT_SENDS - delivered),
      problems: [...problems].slice(0, 3),
    }
  } finally {
    await running.stop({ keepData: true })
  }
}

async function expireStoredToken(dataDir: string): Promise<void> {
  const cipher = createTokenCipher(parseEncryptionKeys(BENCH_ENCRYPTION_KEY))
  const accounts = await openAccountRepository({ dataDir, cipher })
  const account = await accounts.get(ACCOUNT)
  if (account === undefined) throw new Error(`${ACCOUNT} is not in the account store`)
  await accounts.save({ ...account, accessTokenExpiresAt: Date.now() - 60_000 })
}

if (import.meta.main) {
  const { printResults } = await import('./lib.ts')
  printResults([await benchTokenRefresh({ quick: !process.argv.includes('--full') })])
}
