/**
 * One structured logger: JSON lines on a sink (stdout by default), with
 * secrets redacted by field name and by value, at any depth.
 */

import type { LogLevel } from '../../app/config.ts'
import type { LogFields, Logger } from '../../app/logger.ts'

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }
const REDACTED = '[redacted]'
/** Field names whose values are never written, whatever they hold. */
const SECRET_FIELD =
  /token|secret|password|passwd|authorization|cookie|api[-_]?key|credential|verifier|^raw$/i

/**
 * Secret-shaped values the service never registered (tokens minted by
 * Google, codes in URLs, credentials quoted in a library's error message).
 * Google's shapes: access tokens `ya29.`, refresh tokens `1//`, codes `4/`.
 */
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/\bya29\.[\w.~+/-]+/g, REDACTED],
  [/(^|[^\w/])1\/\/[\w.~+/-]+/g, `$1${REDACTED}`],
  [/(^|[^\w/])4\/[\w.~+/-]{10,}/g, `$1${REDACTED}`],
  [/\b(Bearer|Basic)\s+[\w.~+/=-]+/gi, `$1 ${REDACTED}`],
  [
    /([?&#](?:code|state|access_token|refresh_token|id_token|client_secret|code_verifier|token|key)=)[^&#\s"']+/gi,
    `$1${REDACTED}`,
  ],
  [
    /("(?:access_token|refresh_token|id_token|client_secret|code|code_verifier|password)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    `$1"${REDACTED}"`,
  ],
]

/**
 * The process's own streams, guarded: a reader that goes away (EPIPE, a
 * closed pipe, a destroyed stream) must never take the service down. Node
 * reports such a failure as an 'error' event, which kills the process when
 * nobody listens; Deno's node compatibility may throw from `write` instead.
 * Once stdout fails its lines are dropped, and that is said once on stderr;
 * when stderr is gone too, nothing more is said.
 */
const streams = { stdoutOpen: true, stderrOpen: true, guarded: false }

function guardStreams(): void {
  if (streams.guarded) return
  streams.guarded = true
  process.stdout.on('error', stdoutFailed)
  process.stderr.on('error', () => {
    streams.stderrOpen = false
  })
}

function stdoutFailed(error: unknown): void {
  if (!streams.stdoutOpen) return
  streams.stdoutOpen = false
  const code = (error as { code?: unknown })?.code
  const why = typeof code === 'string' ? ` (${code})` : ''
  if (!streams.stderrOpen) return
  try {
    process.stderr.write(
      `The log output (stdout) is closed${why}: log lines are dropped from now on; the service keeps running.\n`,
    )
  } catch {
    streams.stderrOpen = false
  }
}

/** The default sink: a JSON line on stdout while it is open. */
function writeToStdout(line: string): void {
  guardStreams()
  if (!streams.stdoutOpen) return
  try {
    process.stdout.write(`${line}\n`)
  } catch (error) {
    stdoutFailed(error)
  }
}

export interface JsonLoggerOptions {
  level: LogLevel
  /** Receives each finished line (without newline). */
  write?: (line: string) => void
  now?: () => number
}

export interface JsonLogger extends Logger {
  /** Registers a secret value (and each item of a comma-separated list): replaced wherever it appears. */
  addSecret(value: string): void
}

export function createJsonLogger(options: JsonLoggerOptions): JsonLogger {
  const secrets = new Set<string>()
  const write = options.write ?? writeToStdout
  const now = options.now ?? Date.now
  const threshold = LEVELS[options.level]

  const scrub = (text: string): string => {
    let out = text
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    for (const [pattern, replacement] of SECRET_VALUES) out = out.replace(pattern, replacement)
    return out
  }

  /** An error as name, code and message (and its cause): never its stack, config or response. */
  const describeError = (error: Error, depth: number): Record<string, unknown> => {
    const out: Record<string, unknown> = { name: error.name, message: scrub(error.message) }
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' || typeof code === 'number') out['code'] = code
    if (error.cause !== undefined && depth < 4) out['cause'] = redact(error.cause, depth + 1)
    return out
  }

  const redact = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return scrub(value)
    if (value === null || typeof value !== 'object') return value
    if (depth > 6) return '[deep]'
    if (value instanceof Error) return describeError(value, depth)
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_FIELD.test(key) ? REDACTED : redact(inner, depth + 1)
    }
    return out
  }

  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return
    const record: Record<string, unknown> = {
      time: new Date(now()).toISOString(),
      level,
      msg: scrub(message),
    }
    // A field never overwrites time, level or msg.
    if (fields) for (const [key, value] of Object.entries(redact(fields, 0) as object)) record[key] ??= value
    write(JSON.stringify(record))
  }

  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    addSecret(value) {
      // Secrets that are lists (TOKEN_ENCRYPTION_KEY during a rotation) are also redacted item by item.
      for (const item of [value, ...value.split(',').map((part) => part.trim())]) {
        if (item.length >= 6) secrets.add(item)
      }
    },
  }
}
