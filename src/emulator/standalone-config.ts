/**
 * The standalone emulator's options, read from the environment. Every value
 * is checked; a bad one is refused with a sentence naming the variable.
 */

export const DEFAULT_EMULATOR_PORT = 8090
export const DEFAULT_CLIENT_ID = 'emulator-client.apps.googleusercontent.com'

export interface EmulatorConfig {
  /** 0: any free port. */
  port: number
  host: string
  /** The one OAuth client the emulator accepts. */
  client: { clientId: string; clientSecret: string }
  /** Gmail's per-user quota: sends a minute per account (unset: none). */
  sendsPerMinute?: number
  accessTokenTtlSeconds?: number
}

export class EmulatorConfigError extends Error {
  override name = 'EmulatorConfigError'
}

/** Loopback only: the control API has no authentication, whoever reaches the port controls the emulator. */
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/

/** Reads EMULATOR_* variables; `secret` makes the client secret when EMULATOR_CLIENT_SECRET is unset. */
export function readEmulatorConfig(
  env: Readonly<Record<string, string | undefined>>,
  secret: () => string,
): EmulatorConfig {
  const port = integer(env, 'EMULATOR_PORT', 0, 65_535) ?? DEFAULT_EMULATOR_PORT
  const host = present(env, 'EMULATOR_HOST') ?? '127.0.0.1'
  if (!LOOPBACK.test(host))
    throw new EmulatorConfigError(
      `EMULATOR_HOST is invalid: the emulator listens on loopback only (127.0.0.1, ::1 or localhost), not ${host}`,
    )
  const clientId = present(env, 'EMULATOR_CLIENT_ID') ?? DEFAULT_CLIENT_ID
  const clientSecret = present(env, 'EMULATOR_CLIENT_SECRET') ?? secret()
  const config: EmulatorConfig = { port, host, client: { clientId, clientSecret } }
  const sendsPerMinute = integer(env, 'EMULATOR_SENDS_PER_MINUTE', 1, 1_000_000)
  if (sendsPerMinute !== undefined) config.sendsPerMinute = sendsPerMinute
  const ttl = integer(env, 'EMULATOR_ACCESS_TOKEN_TTL_SECONDS', 1, 86_400)
  if (ttl !== undefined) config.accessTokenTtlSeconds = ttl
  return config
}

/** A set, non-blank value; whitespace around it is dropped. */
function present(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function integer(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = present(env, name)
  if (text === undefined) return undefined
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!(Number.isSafeInteger(value) && value >= min && value <= max))
    throw new EmulatorConfigError(`${name} is invalid: expected a whole number from ${min} to ${max}`)
  return value
}
