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
  /token|secret|password|authorization|cookie|api[-_]?key|credential|code_?verifier|^code$|^raw$/i

export interface JsonLoggerOptions {
  level: LogLevel
  /** Receives each finished line (without newline). */
  write?: (line: string) => void
  now?: () => number
}

export interface JsonLogger extends Logger {
  /** Registers a secret value: it is replaced wherever it appears in a line. */
  addSecret(value: string): void
}

export function createJsonLogger(options: JsonLoggerOptions): JsonLogger {
  const secrets = new Set<string>()
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const now = options.now ?? Date.now
  const threshold = LEVELS[options.level]

  const scrub = (text: string): string => {
    let out = text
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    return out
  }

  const redact = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return scrub(value)
    if (value === null || typeof value !== 'object') return value
    if (depth > 6) return '[deep]'
    if (value instanceof Error) return { name: value.name, message: scrub(value.message) }
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_FIELD.test(key) ? REDACTED : redact(inner, depth + 1)
    }
    return out
  }

  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return
    const record = {
      time: new Date(now()).toISOString(),
      level,
      msg: scrub(message),
      ...(fields ? (redact(fields, 0) as object) : {}),
    }
    write(JSON.stringify(record))
  }

  return {
    debug: (message, fields) => log('debug', message, fields),
    info: (message, fields) => log('info', message, fields),
    warn: (message, fields) => log('warn', message, fields),
    error: (message, fields) => log('error', message, fields),
    addSecret(value) {
      if (value.length >= 6) secrets.add(value)
    },
  }
}
