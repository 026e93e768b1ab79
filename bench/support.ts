/**
 * What the end-to-end benchmarks share: the service in real mode against a
 * standalone Google emulator, a non-batching tRPC client (one HTTP request
 * per call, as the direct baseline makes), a Gmail client that skips the
 * service, closed-loop load, and percentiles.
 */
import { gmail } from '@googleapis/gmail'
import { createTRPCClient, httpLink } from '@trpc/client'
import { OAuth2Client } from 'google-auth-library'
import type { AppRouter } from '../src/client.ts'
import type { MailInput } from '../src/domain/mail/input.ts'
import { connectAccount } from '../test/support/connect.ts'
import { type RunningEmulator, startEmulator } from '../test/support/emulator-server.ts'
import { type RunningService, startService } from '../test/support/service.ts'

export const GMAIL_SEND_SCOPE = 'https://www.googleapis.com/auth/gmail.send'
/** Any 32 bytes: the bench's data directories are thrown away. */
export const BENCH_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64')

export type { RunningEmulator, RunningService }

/** Environment that points the service at `emulator` in real mode. */
export function realModeEnv(
  emulator: RunningEmulator,
  env: Record<string, string> = {},
): Record<string, string> {
  const { endpoints } = emulator
  return {
    GOOGLE_CLIENT_ID: 'bench-client.apps.googleusercontent.com',
    GOOGLE_CLIENT_SECRET: 'bench-client-secret',
    GOOGLE_AUTH_URL: endpoints.authUrl,
    GOOGLE_TOKEN_URL: endpoints.tokenUrl,
    GOOGLE_REVOKE_URL: endpoints.revokeUrl,
    GOOGLE_USERINFO_URL: endpoints.userinfoUrl,
    GMAIL_API_URL: endpoints.gmailApiUrl,
    TOKEN_ENCRYPTION_KEY: BENCH_ENCRYPTION_KEY,
    // The API's own per-key rate limit would measure itself, not the service.
    API_RATE_LIMIT_PER_MINUTE: '0',
    ...env,
  }
}

/** Starts the service in real mode against `emulator` and connects `email` through /oauth/login. */
export async function startConnectedService(
  emulator: RunningEmulator,
  email: string,
  env: Record<string, string> = {},
  options: { dataDir?: string; connect?: boolean } = {},
): Promise<RunningService> {
  const running = await startService(
    realModeEnv(emulator, env),
    options.dataDir === undefined ? {} : { dataDir: options.dataDir },
  )
  if (options.connect !== false) {
    const connected = await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control: emulator.emulator.control,
      email,
    })
    if (connected.callbackStatus !== 302) {
      await running.stop()
      throw new Error(`Connecting ${email} answered ${connected.callbackStatus}`)
    }
  }
  return running
}

/** A tRPC client with `httpLink`: each call its own request, so concurrency is real. */
export function unbatchedClient(running: Pick<RunningService, 'url' | 'apiKey'>) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${running.url}/trpc`,
        headers: () => ({ Authorization: `Bearer ${running.apiKey}` }),
      }),
    ],
  })
}

export type UnbatchedClient = ReturnType<typeof unbatchedClient>

/** Sends straight to the emulated Gmail with `@googleapis/gmail`, as one account. */
export interface DirectGmail {
  send(raw: Uint8Array): Promise<{ id: string; threadId: string }>
}

/** Gets a token for `email` from the emulator (consent + code exchange with PKCE) and builds the client. */
export function directGmail(emulator: RunningEmulator, email: string): Promise<DirectGmail> {
  const { endpoints } = emulator
  return directGmailWith({
    client: { id: 'direct-client.apps.googleusercontent.com', secret: 'direct-client-secret' },
    endpoints,
    consent: (authorizationUrl) => emulator.emulator.control.approveConsent(authorizationUrl, email),
  })
}

/** How a bench caller gets its own grant from an emulator: its client, its endpoints, its consent page. */
export interface GrantOptions {
  client: { id: string; secret: string }
  endpoints: { authUrl: string; tokenUrl: string; gmailApiUrl: string }
  consent: (authorizationUrl: string) => Promise<string>
}

/** An OAuth2Client holding the tokens of a consent (authorization code with PKCE) to gmail.send. */
export async function consentedClient(options: GrantOptions): Promise<OAuth2Client> {
  const { endpoints } = options
  const auth = new OAuth2Client({
    clientId: options.client.id,
    clientSecret: options.client.secret,
    redirectUri: 'http://127.0.0.1:1/oauth/callback',
    endpoints: { oauth2AuthBaseUrl: endpoints.authUrl, oauth2TokenUrl: endpoints.tokenUrl },
  })
  const { codeVerifier, codeChallenge } = await auth.generateCodeVerifierAsync()
  const authorizationUrl = auth.generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    scope: [GMAIL_SEND_SCOPE],
    state: 'bench-direct',
    ...(codeChallenge === undefined ? {} : { code_challenge: codeChallenge }),
    code_challenge_method: 'S256' as never,
  })
  const code = new URL(await options.consent(authorizationUrl)).searchParams.get('code')
  if (code === null) throw new Error('The emulator gave no authorization code')
  const { tokens } = await auth.getToken({ code, codeVerifier })
  auth.setCredentials(tokens)
  return auth
}

/** The same, for any emulator: its client, its endpoints, and how its consent page is approved. */
export async function directGmailWith(options: GrantOptions): Promise<DirectGmail> {
  const { endpoints } = options
  const auth = await consentedClient(options)
  const api = gmail({ version: 'v1', rootUrl: endpoints.gmailApiUrl })
  const callOptions = { rootUrl: endpoints.gmailApiUrl, retry: false }
  return {
    async send(raw) {
      const requestBody = {
        raw: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url'),
      }
      const { data } = await api.users.messages.send({ userId: 'me', auth, requestBody }, callOptions)
      if (typeof data.id !== 'string' || typeof data.threadId !== 'string')
        throw new Error('Gmail answered without an id')
      return { id: data.id, threadId: data.threadId }
    },
  }
}

/** A typical transactional message: two recipients, a French subject, ~2 KB text and ~5 KB HTML. */
export function typicalMessage(from: string, index = 0): MailInput {
  const sentence =
    'Votre commande a été expédiée; le colis arrivera sous trois jours ouvrés à l’adresse indiquée. '
  const text = sentence.repeat(22)
  const html = `<!doctype html><html><body>${`<p style="margin:0 0 12px 0">${sentence.repeat(4)}</p>\n`.repeat(13)}</body></html>`
  return {
    from,
    to: ['Ann Example <ann@example.com>', '"Doe, John" <john.doe@example.org>'],
    subject: `Commande n° ${index} expédiée — suivi du colis`,
    text,
    html,
  }
}

export interface LoadResult {
  /** Completed calls per second over the phase. */
  throughput: number
  /** Milliseconds of each call. */
  latencies: number[]
  calls: number
}

/**
 * Closed-loop load: `concurrency` workers call `call` back to back until
 * `durationMs` has passed; each call's result goes through `check`.
 */
export async function closedLoop<T>(options: {
  concurrency: number
  durationMs: number
  call: (index: number) => Promise<T>
  check: (result: T) => boolean
}): Promise<LoadResult & { failures: number }> {
  const latencies: number[] = []
  let failures = 0
  let next = 0
  const started = performance.now()
  const deadline = started + options.durationMs
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const index = next++
      const at = performance.now()
      let ok = false
      try {
        ok = options.check(await options.call(index))
      } catch {
        ok = false
      }
      latencies.push(performance.now() - at)
      if (!ok) failures++
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
  const elapsed = performance.now() - started
  return { throughput: (latencies.length * 1000) / elapsed, latencies, calls: latencies.length, failures }
}

/** The `p`-th percentile (0-100), nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]!
}

/** Messages of `account` in the mailbox once `expected` are there (retries included), or after 30 s. */
export async function deliveredCount(
  emulator: RunningEmulator,
  account: string,
  expected: number,
): Promise<number> {
  const count = () =>
    emulator.emulator.control.mailbox().filter((message) => message.account === account).length
  const deadline = performance.now() + 30_000
  while (count() < expected && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return count()
}

/** Starts a standalone emulator (its own loopback port, `/_control` API). */
export { startEmulator }
