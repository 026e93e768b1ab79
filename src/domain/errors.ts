/**
 * Stable error codes of the service. The edge (tRPC, HTTP) maps them to
 * protocol errors in one place; every other layer speaks only these.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  /** The sending account is not connected (never was, or was disconnected). */
  | 'ACCOUNT_NOT_CONNECTED'
  /** Google refused the refresh token (`invalid_grant`): the admin must reauthorize. */
  | 'REAUTHORIZATION_REQUIRED'
  /** Gmail said 429 / 403 rate limit: retry later. */
  | 'GMAIL_RATE_LIMITED'
  /** Gmail said 403 dailyLimitExceeded: retry much later. */
  | 'GMAIL_DAILY_LIMIT'
  /** Gmail said 5xx: retry. */
  | 'GMAIL_UNAVAILABLE'
  /** Gmail refused the message (400 and other permanent 4xx): do not retry. */
  | 'GMAIL_REJECTED'
  /** Connection refused, reset or timed out: retry. The request may have been delivered. */
  | 'NETWORK'
  | 'OAUTH_DENIED'
  | 'OAUTH_STATE_INVALID'
  | 'OAUTH_EXCHANGE_FAILED'
  | 'STORAGE'
  /** The stored body of a message differs from its recorded size or digest: it is not sent. */
  | 'BODY_DAMAGED'
  /** The disk (or quota) of DATA_DIR is full, or below MIN_FREE_BYTES: nothing was stored; retry later. */
  | 'STORAGE_FULL'
  /** The database (PostgreSQL) cannot be reached or did not answer in time: nothing was done; retry later. */
  | 'SERVICE_UNAVAILABLE'
  | 'CONFIG'
  | 'INTERNAL'

/** One offending field of a refused input. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `to.1` or `attachments.0.content`. */
  path: string
  message: string
}

export interface ServiceErrorOptions {
  /** Whether trying the same thing again later can succeed. */
  retryable?: boolean
  /** A hint from the remote side (Retry-After) of when to try again. */
  retryAfterMs?: number
  issues?: FieldIssue[]
  cause?: unknown
}

/**
 * The one error class of the service: a stable `code`, a sentence-case
 * message safe to show to callers (never a token, a secret or a path),
 * and whether a retry can help.
 */
export class ServiceError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  readonly issues: FieldIssue[]

  constructor(code: ErrorCode, message: string, options: ServiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ServiceError'
    this.code = code
    this.retryable = options.retryable ?? false
    this.retryAfterMs = options.retryAfterMs
    this.issues = options.issues ?? []
  }
}

/** Shorthand for a refused input naming its offending fields. */
export function badRequest(message: string, issues: FieldIssue[] = []): ServiceError {
  return new ServiceError('BAD_REQUEST', message, { issues })
}

/** How long a caller refused for a full disk is told to wait (Retry-After). */
export const STORAGE_FULL_RETRY_AFTER_MS = 30_000

/** The answer to a write refused or failed for want of space: nothing was stored. */
export function storageFull(cause?: unknown): ServiceError {
  return new ServiceError('STORAGE_FULL', "The service's storage is full; nothing was stored; retry later", {
    retryable: true,
    retryAfterMs: STORAGE_FULL_RETRY_AFTER_MS,
    ...(cause === undefined ? {} : { cause }),
  })
}

export function isServiceError(error: unknown): error is ServiceError {
  return error instanceof ServiceError
}
