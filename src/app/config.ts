/**
 * The service's configuration, read once from the environment and checked
 * with zod. A bad or missing variable stops the start with one line naming
 * it; a secret's value is never echoed.
 */
import { z } from 'zod'
import { DEFAULT_UPLOAD_TTL_MS } from '../domain/uploads/upload.ts'
import { parseIpRange } from './ip-address.ts'
import { defaultBurst } from './rate-limit.ts'

const DEFAULTS = {
  authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  revokeUrl: 'https://oauth2.googleapis.com/revoke',
  userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
  gmailApiUrl: 'https://gmail.googleapis.com/',
}

/** The free space DATA_DIR keeps in reserve for delivery outcomes: 64 MiB. */
export const DEFAULT_MIN_FREE_BYTES = 64 * 1_048_576

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const url = z.url({ protocol: /^https?$/ })
const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
)

const envSchema = z.object({
  PORT: integer(0, 65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: url.optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  GOOGLE_AUTH_URL: url.default(DEFAULTS.authUrl),
  GOOGLE_TOKEN_URL: url.default(DEFAULTS.tokenUrl),
  GOOGLE_REVOKE_URL: url.default(DEFAULTS.revokeUrl),
  GOOGLE_USERINFO_URL: url.default(DEFAULTS.userinfoUrl),
  GMAIL_API_URL: url.default(DEFAULTS.gmailApiUrl),
  GOOGLE_APP_TESTING: z
    .enum(['true', 'false'], 'must be true or false')
    .default('false')
    .transform((value) => value === 'true'),
  API_KEYS: list.optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TOKEN_ENCRYPTION_KEY: z.string().min(1).optional(),
  GMAIL_SENDS_PER_MINUTE: integer(0, 100_000).default(60),
  GMAIL_SENDS_PER_DAY: integer(0, 10_000_000).default(2000),
  SEND_WAIT_MS: integer(0, 120_000).default(10_000),
  SEND_CONCURRENCY: integer(1, 256).default(8),
  GIVE_UP_AFTER_MS: integer(1_000, 30 * 24 * 3_600_000).default(24 * 3_600_000),
  RETRY_BASE_MS: integer(1, 3_600_000).default(1_000),
  RETRY_MAX_MS: integer(1, 24 * 3_600_000).default(5 * 60_000),
  RETENTION_DAYS: integer(1, 3650).default(30),
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(15_000),
  MIN_FREE_BYTES: integer(0, Number.MAX_SAFE_INTEGER).default(DEFAULT_MIN_FREE_BYTES),
  API_RATE_LIMIT_PER_MINUTE: integer(0, 1_000_000).default(6000),
  API_RATE_BURST: integer(1, 1_000_000).optional(),
  TRUSTED_PROXIES: list.optional(),
  CORS_ORIGINS: list.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a URL like postgres://user@host:5432/database')
    .optional(),
  REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1 to 64 letters, digits or . _ : -')
    .optional(),
  CLAIM_LEASE_MS: integer(1_000, 3_600_000).default(60_000),
  FLEET_POLL_MS: integer(50, 60_000).default(2_000),
  WEBHOOK_TIMEOUT_MS: integer(100, 120_000).default(10_000),
  WEBHOOK_RETRY_BASE_MS: integer(1, 3_600_000).default(5_000),
  UPLOAD_TTL_MS: integer(60_000, 7 * 24 * 3_600_000).default(DEFAULT_UPLOAD_TTL_MS),
})

export interface GoogleClientConfig {
  clientId: string
  clientSecret: string
}

export interface Config {
  port: number
  host: string
  /** Without a trailing slash. */
  publicUrl: string
  /** Whether PUBLIC_URL was given (otherwise it follows the bound port). */
  publicUrlFixed: boolean
  dataDir: string
  /** Absent: sandbox mode. */
  google?: GoogleClientConfig
  /** The Google app is in Testing: its refresh tokens die 7 days after consent (`GOOGLE_APP_TESTING`). */
  googleAppTesting: boolean
  endpoints: {
    authUrl: string
    tokenUrl: string
    revokeUrl: string
    userinfoUrl: string
    gmailApiUrl: string
  }
  apiKeys?: string[]
  adminToken?: string
  /** Accepted by `GET /metrics` besides the admin token. */
  metricsToken?: string
  tokenEncryptionKey?: string
  sendsPerMinute: number
  sendsPerDay: number
  sendWaitMs: number
  sendConcurrency: number
  giveUpAfterMs: number
  /** Backoff of retried sends: the first retry waits up to this, doubling per attempt. */
  retryBaseMs: number
  /** The longest wait between two attempts (truncation of the backoff). */
  retryMaxMs: number
  retentionMs: number
  shutdownTimeoutMs: number
  /** Free space kept in DATA_DIR: below it new mail is refused; 0 turns the margin off. */
  minFreeBytes: number
  apiRateLimitPerMinute: number
  /** Calls (and batch messages) one key may make at once; default a third of the per-minute rate. */
  apiRateBurst: number
  /** Proxies whose `X-Forwarded-For` is believed (IPs or CIDR ranges). */
  trustedProxies: string[]
  corsOrigins: string[]
  logLevel: LogLevel
  /** PostgreSQL mode: everything shared lives there, and several replicas may run. Absent: lowdb in DATA_DIR. */
  databaseUrl?: string
  /** This replica's name in claims; default host name, process id and a random suffix. */
  replicaId?: string
  /** How long a claim on a message lasts unless renewed (PostgreSQL mode). */
  claimLeaseMs: number
  /** How often a replica looks for due mail when no signal came (PostgreSQL mode). */
  fleetPollMs: number
  /** A webhook attempt's time limit. */
  webhookTimeoutMs: number
  /** The first webhook retry's delay (doubling after, at most an hour). */
  webhookRetryBaseMs: number
  /** How long an attachment sent to POST /uploads is kept when no message uses it. */
  uploadTtlMs: number
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Loopback names and addresses: 127.0.0.0/8, ::1 and localhost (RFC 6761 §6.3). */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  return octets?.slice(1).every((octet) => Number(octet) <= 255) ?? false
}

const SHA256_ENTRY = /^sha256:[0-9a-fA-F]{64}$/
const MIN_API_KEY_LENGTH = 16

/** An `API_KEYS` entry that cannot work or is too easy to guess, described without its value. */
function badApiKey(keys: string[]): string | undefined {
  for (const [index, key] of keys.entries()) {
    if (key.startsWith('sha256:') && !SHA256_ENTRY.test(key)) {
      return `key ${index + 1} starts with sha256: but is not followed by 64 hex digits`
    }
    if (!key.startsWith('sha256:') && key.length < MIN_API_KEY_LENGTH) {
      return `key ${index + 1} is shorter than ${MIN_API_KEY_LENGTH} characters`
    }
  }
  return undefined
}

/** Reads the configuration; throws `ConfigError` with one line naming the first bad variable. */
export function readConfig(env: Record<string, string | undefined>): Config {
  const cleaned: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') cleaned[key] = value
  }
  const parsed = envSchema.safeParse(cleaned)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const name = String(issue?.path[0] ?? 'environment')
    throw new ConfigError(`${name} is invalid: ${issue?.message ?? 'bad value'}`)
  }
  const e = parsed.data
  if ((e.GOOGLE_CLIENT_ID === undefined) !== (e.GOOGLE_CLIENT_SECRET === undefined)) {
    throw new ConfigError(
      'GOOGLE_CLIENT_SECRET is invalid: set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or neither',
    )
  }
  const sandbox = e.GOOGLE_CLIENT_ID === undefined
  if (!sandbox) {
    for (const name of ['API_KEYS', 'ADMIN_TOKEN', 'TOKEN_ENCRYPTION_KEY'] as const) {
      if (e[name] === undefined || (Array.isArray(e[name]) && e[name].length === 0)) {
        throw new ConfigError(`${name} is missing: it is required when GOOGLE_CLIENT_ID is set`)
      }
    }
  }
  const keyProblem = e.API_KEYS === undefined ? undefined : badApiKey(e.API_KEYS)
  if (keyProblem !== undefined) throw new ConfigError(`API_KEYS is invalid: ${keyProblem}`)
  if (sandbox && !isLoopbackHost(e.HOST)) {
    throw new ConfigError(
      `HOST is invalid: sandbox mode listens on loopback only (set GOOGLE_CLIENT_ID to serve on ${e.HOST})`,
    )
  }
  const badProxy = e.TRUSTED_PROXIES?.find((entry) => parseIpRange(entry) === undefined)
  if (badProxy !== undefined) {
    throw new ConfigError(
      `TRUSTED_PROXIES is invalid: "${badProxy.slice(0, 64)}" is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)`,
    )
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '')
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    publicUrlFixed: e.PUBLIC_URL !== undefined,
    dataDir: e.DATA_DIR,
    googleAppTesting: e.GOOGLE_APP_TESTING,
    endpoints: {
      authUrl: e.GOOGLE_AUTH_URL,
      tokenUrl: e.GOOGLE_TOKEN_URL,
      revokeUrl: e.GOOGLE_REVOKE_URL,
      userinfoUrl: e.GOOGLE_USERINFO_URL,
      gmailApiUrl: e.GMAIL_API_URL.endsWith('/') ? e.GMAIL_API_URL : `${e.GMAIL_API_URL}/`,
    },
    sendsPerMinute: e.GMAIL_SENDS_PER_MINUTE,
    sendsPerDay: e.GMAIL_SENDS_PER_DAY,
    sendWaitMs: e.SEND_WAIT_MS,
    sendConcurrency: e.SEND_CONCURRENCY,
    giveUpAfterMs: e.GIVE_UP_AFTER_MS,
    retryBaseMs: e.RETRY_BASE_MS,
    retryMaxMs: Math.max(e.RETRY_MAX_MS, e.RETRY_BASE_MS),
    retentionMs: e.RETENTION_DAYS * 24 * 3_600_000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    minFreeBytes: e.MIN_FREE_BYTES,
    apiRateLimitPerMinute: e.API_RATE_LIMIT_PER_MINUTE,
    apiRateBurst: e.API_RATE_BURST ?? defaultBurst(e.API_RATE_LIMIT_PER_MINUTE),
    trustedProxies: e.TRUSTED_PROXIES ?? [],
    corsOrigins: e.CORS_ORIGINS ?? [],
    logLevel: e.LOG_LEVEL,
    claimLeaseMs: e.CLAIM_LEASE_MS,
    fleetPollMs: e.FLEET_POLL_MS,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    webhookRetryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    uploadTtlMs: e.UPLOAD_TTL_MS,
  }
  if (e.DATABASE_URL !== undefined) config.databaseUrl = e.DATABASE_URL
  if (e.REPLICA_ID !== undefined) config.replicaId = e.REPLICA_ID
  if (!sandbox) config.google = { clientId: e.GOOGLE_CLIENT_ID!, clientSecret: e.GOOGLE_CLIENT_SECRET! }
  if (e.API_KEYS !== undefined && e.API_KEYS.length > 0) config.apiKeys = e.API_KEYS
  if (e.ADMIN_TOKEN !== undefined) config.adminToken = e.ADMIN_TOKEN
  if (e.METRICS_TOKEN !== undefined) config.metricsToken = e.METRICS_TOKEN
  if (e.TOKEN_ENCRYPTION_KEY !== undefined) config.tokenEncryptionKey = e.TOKEN_ENCRYPTION_KEY
  return config
}
