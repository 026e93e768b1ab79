/**
 * The one structured logger: JSON lines, secrets redacted by field name, by
 * registered value and by the shape of Google's tokens, errors without
 * stacks.
 */
import { describe, expect, it } from 'vitest'
import { createJsonLogger } from '../../src/adapters/log/json-logger.ts'

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = []
  const logger = createJsonLogger({ level, write: (line) => lines.push(line), now: () => 0 })
  return { logger, lines, last: () => JSON.parse(lines.at(-1)!) as Record<string, unknown> }
}

describe('the JSON logger', () => {
  it('writes one JSON object per line with time, level and message first', () => {
    const { logger, lines } = capture()
    logger.info('Message sent', { id: 'm1', account: 'a@example.com' })
    expect(lines).toEqual([
      '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"Message sent","id":"m1","account":"a@example.com"}',
    ])
  })

  it('never lets a field overwrite time, level or msg, nor break the line', () => {
    const { logger, lines, last } = capture()
    logger.warn('Real message', { level: 'debug', msg: 'forged\n{"level":"error"}', time: 'never' })
    expect(lines).toHaveLength(1)
    expect(last()).toMatchObject({ level: 'warn', msg: 'Real message', time: '1970-01-01T00:00:00.000Z' })
  })

  it('redacts by field name at any depth: tokens, secrets, keys, Authorization and Cookie headers', () => {
    const { logger, last } = capture()
    logger.info('Request', {
      headers: { Authorization: 'Bearer abc', cookie: 'admin_session=xyz', 'x-api-key': 'k' },
      nested: { deeper: { refreshToken: 'r', access_token: 't', clientSecret: 's', password: 'p' } },
      codeVerifier: 'v',
      apiKey: 'k2',
      credentials: { any: 'thing' },
      code: 'GMAIL_RATE_LIMITED',
    })
    expect(last()).toMatchObject({
      headers: { Authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]' },
      nested: {
        deeper: {
          refreshToken: '[redacted]',
          access_token: '[redacted]',
          clientSecret: '[redacted]',
          password: '[redacted]',
        },
      },
      codeVerifier: '[redacted]',
      apiKey: '[redacted]',
      credentials: '[redacted]',
      // An error code is no secret and stays readable.
      code: 'GMAIL_RATE_LIMITED',
    })
  })

  it('redacts registered secret values wherever they appear, and each item of a listed secret', () => {
    const { logger, lines } = capture()
    const keyA = Buffer.alloc(32, 1).toString('base64')
    const keyB = Buffer.alloc(32, 2).toString('base64')
    logger.addSecret('the-admin-token-0123456789')
    logger.addSecret(`${keyB},${keyA}`)
    logger.info('Token the-admin-token-0123456789 seen', {
      note: `old key ${keyA} and new ${keyB}`,
      list: ['x the-admin-token-0123456789 y'],
    })
    expect(lines[0]).not.toContain('the-admin-token-0123456789')
    expect(lines[0]).not.toContain(keyA)
    expect(lines[0]).not.toContain(keyB)
    expect(lines[0]).toContain('Token [redacted] seen')
  })

  it('redacts Google-shaped tokens, codes, bearer credentials and secrets in URLs or JSON it was never told about', () => {
    const { logger, lines } = capture()
    logger.error('Token refresh failed', {
      detail: 'ya29.a0AfH6SMBx-secret_part and 1//0gLx-refresh_part and code 4/0AX4XfWh-code_part',
      url: 'https://oauth2.googleapis.com/token?code=4/0abc&client_secret=GOCSPX-zzz&grant_type=authorization_code',
      body: '{"access_token":"opaque-token-value","refresh_token":"opaque-refresh","expires_in":3599}',
      header: 'Authorization: Bearer opaque-bearer-value',
    })
    const line = lines[0]!
    for (const secret of [
      'a0AfH6SMBx',
      '0gLx-refresh_part',
      '4/0AX4XfWh',
      'GOCSPX-zzz',
      'opaque-token-value',
      'opaque-refresh',
      'opaque-bearer-value',
    ]) {
      expect(line).not.toContain(secret)
    }
    expect(line).toContain('grant_type=authorization_code')
    expect(line).toContain('"expires_in\\":3599')
  })

  it('logs an error as name, code and message (and its cause), never its stack or attached request', () => {
    const { logger, lines, last } = capture()
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    const error = Object.assign(new Error('Request failed', { cause }), {
      config: { headers: { Authorization: 'Bearer ya29.leaky' } },
      response: { data: { refresh_token: '1//leaky' } },
    })
    logger.error('Send failed', { error })
    expect(last()['error']).toEqual({
      name: 'Error',
      message: 'Request failed',
      cause: { name: 'Error', message: 'socket hang up', code: 'ECONNRESET' },
    })
    expect(lines[0]).not.toMatch(/leaky|at .+:\d+:\d+/)
  })

  it('drops lines under its level', () => {
    const { logger, lines } = capture('info')
    logger.debug('noise')
    logger.info('signal')
    expect(lines).toHaveLength(1)
  })
})
