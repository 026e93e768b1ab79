import { describe, expect, it } from 'vitest'
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_EMULATOR_PORT,
  readEmulatorConfig,
} from '../../src/emulator/standalone-config.ts'

const secret = () => 'generated-secret'

describe('the standalone emulator’s environment', () => {
  it('defaults to 127.0.0.1:8090, no quota, one client with a generated secret', () => {
    expect(readEmulatorConfig({}, secret)).toEqual({
      port: DEFAULT_EMULATOR_PORT,
      host: '127.0.0.1',
      client: { clientId: DEFAULT_CLIENT_ID, clientSecret: 'generated-secret' },
    })
    expect(DEFAULT_EMULATOR_PORT).toBe(8090)
  })

  it('reads every option it documents', () => {
    const config = readEmulatorConfig(
      {
        EMULATOR_PORT: '0',
        EMULATOR_HOST: '::1',
        EMULATOR_CLIENT_ID: 'mine.apps.googleusercontent.com',
        EMULATOR_CLIENT_SECRET: 'set-secret',
        EMULATOR_SENDS_PER_MINUTE: '60',
        EMULATOR_ACCESS_TOKEN_TTL_SECONDS: '5',
      },
      secret,
    )
    expect(config).toEqual({
      port: 0,
      host: '::1',
      client: { clientId: 'mine.apps.googleusercontent.com', clientSecret: 'set-secret' },
      sendsPerMinute: 60,
      accessTokenTtlSeconds: 5,
    })
  })

  it.each([
    [{ EMULATOR_PORT: '65536' }, 'EMULATOR_PORT is invalid: expected a whole number from 0 to 65535'],
    [{ EMULATOR_PORT: '80a' }, 'EMULATOR_PORT is invalid'],
    [{ EMULATOR_SENDS_PER_MINUTE: '0' }, 'EMULATOR_SENDS_PER_MINUTE is invalid'],
    [{ EMULATOR_ACCESS_TOKEN_TTL_SECONDS: '-1' }, 'EMULATOR_ACCESS_TOKEN_TTL_SECONDS is invalid'],
    [{ EMULATOR_HOST: '0.0.0.0' }, 'EMULATOR_HOST is invalid: the emulator listens on loopback only'],
    [{ EMULATOR_HOST: '192.168.1.2' }, 'EMULATOR_HOST is invalid'],
  ])('refuses %o with a sentence naming the variable', (env, message) => {
    expect(() => readEmulatorConfig(env, secret)).toThrow(message)
  })
})
