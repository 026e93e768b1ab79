import { describe, expect, it } from 'vitest'
import { gmailServiceError } from '../../../src/adapters/gmail/errors.ts'
import { ServiceError } from '../../../src/domain/errors.ts'

const SECRET = 'ya29.secret-access-token'
const NOW = Date.parse('2026-06-01T12:00:00Z')

/** A GaxiosError as the library builds it: message and config full of things never to copy. */
function gaxiosError(options: {
  status?: number
  data?: unknown
  headers?: Record<string, string>
  cause?: unknown
  code?: string
}): Error {
  const error = new Error(`request failed with Bearer ${SECRET}`, { cause: options.cause })
  const config = {
    url: `https://oauth2.googleapis.com/revoke?token=${SECRET}`,
    headers: { authorization: `Bearer ${SECRET}` },
  }
  const extra: Record<string, unknown> = { config }
  if (options.status !== undefined) {
    extra['response'] = {
      status: options.status,
      data: options.data,
      headers: new Headers(options.headers),
      config,
    }
  }
  if (options.code !== undefined) extra['code'] = options.code
  return Object.assign(error, extra)
}

function gmailBody(code: number, reason: string, message: string) {
  return { error: { code, message, errors: [{ reason, message, domain: 'usageLimits' }], status: 'X' } }
}

function mapSend(error: unknown): ServiceError {
  return gmailServiceError(error, { stage: 'send', now: NOW })
}

describe('gmailServiceError', () => {
  it('maps a 429 to GMAIL_RATE_LIMITED, retryable, with Retry-After in seconds', () => {
    const error = mapSend(
      gaxiosError({
        status: 429,
        data: gmailBody(429, 'rateLimitExceeded', 'Rate limit exceeded'),
        headers: { 'retry-after': '7' },
      }),
    )
    expect(error).toMatchObject({ code: 'GMAIL_RATE_LIMITED', retryable: true, retryAfterMs: 7000 })
    expect(error.message).toBe('Gmail answered 429 rateLimitExceeded: Rate limit exceeded')
  })

  it('reads a Retry-After given as an HTTP date', () => {
    const at = new Date(NOW + 90_000).toUTCString()
    const error = mapSend(
      gaxiosError({
        status: 503,
        data: gmailBody(503, 'backendError', 'Backend Error'),
        headers: { 'retry-after': at },
      }),
    )
    expect(error).toMatchObject({ code: 'GMAIL_UNAVAILABLE', retryable: true, retryAfterMs: 90_000 })
  })

  it('maps a 403 userRateLimitExceeded to GMAIL_RATE_LIMITED', () => {
    const error = mapSend(
      gaxiosError({ status: 403, data: gmailBody(403, 'userRateLimitExceeded', 'User-rate limit exceeded') }),
    )
    expect(error).toMatchObject({ code: 'GMAIL_RATE_LIMITED', retryable: true, retryAfterMs: undefined })
  })

  it('maps a 403 dailyLimitExceeded to GMAIL_DAILY_LIMIT, retryable', () => {
    const error = mapSend(
      gaxiosError({ status: 403, data: gmailBody(403, 'dailyLimitExceeded', 'Daily Limit Exceeded') }),
    )
    expect(error).toMatchObject({ code: 'GMAIL_DAILY_LIMIT', retryable: true })
  })

  it('maps a 403 insufficientPermissions to REAUTHORIZATION_REQUIRED', () => {
    const error = mapSend(
      gaxiosError({
        status: 403,
        data: gmailBody(403, 'insufficientPermissions', 'Insufficient Permission'),
      }),
    )
    expect(error).toMatchObject({ code: 'REAUTHORIZATION_REQUIRED', retryable: false })
  })

  it.each([500, 502, 503, 504])('maps a %i to GMAIL_UNAVAILABLE, retryable', (status) => {
    const error = mapSend(gaxiosError({ status, data: gmailBody(status, 'backendError', 'Backend Error') }))
    expect(error).toMatchObject({ code: 'GMAIL_UNAVAILABLE', retryable: true })
  })

  it('treats a 401 that survived the forced refresh as retryable', () => {
    const error = mapSend(
      gaxiosError({ status: 401, data: gmailBody(401, 'authError', 'Invalid Credentials') }),
    )
    expect(error).toMatchObject({ code: 'GMAIL_UNAVAILABLE', retryable: true })
  })

  it.each([400, 404, 413])('maps a %i to GMAIL_REJECTED, not retryable, quoting Google', (status) => {
    const error = mapSend(
      gaxiosError({ status, data: gmailBody(status, 'invalidArgument', 'Invalid To header') }),
    )
    expect(error).toMatchObject({ code: 'GMAIL_REJECTED', retryable: false })
    expect(error.message).toBe(`Gmail refused the message (${status} invalidArgument): Invalid To header`)
  })

  it('maps a 413 without a JSON body to GMAIL_REJECTED', () => {
    const error = mapSend(gaxiosError({ status: 413, data: '<html>Request Entity Too Large</html>' }))
    expect(error).toMatchObject({
      code: 'GMAIL_REJECTED',
      retryable: false,
      message: 'Gmail refused the message (413)',
    })
  })

  it('maps invalid_grant from the refresh to REAUTHORIZATION_REQUIRED, not retryable', () => {
    const data = { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }
    for (const stage of ['token', 'send'] as const) {
      const error = gmailServiceError(gaxiosError({ status: 400, data }), { stage, now: NOW })
      expect(error).toMatchObject({ code: 'REAUTHORIZATION_REQUIRED', retryable: false })
    }
  })

  it('maps a token endpoint 5xx to NETWORK, retryable', () => {
    const error = gmailServiceError(gaxiosError({ status: 503, data: 'Service Unavailable' }), {
      stage: 'token',
      now: NOW,
    })
    expect(error).toMatchObject({
      code: 'NETWORK',
      retryable: true,
      message: "Google's token endpoint answered 503",
    })
  })

  it('maps invalid_client at the token endpoint to CONFIG, not retryable', () => {
    const error = gmailServiceError(gaxiosError({ status: 401, data: { error: 'invalid_client' } }), {
      stage: 'token',
      now: NOW,
    })
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false })
  })

  it('maps a connection reset (node-fetch FetchError) to NETWORK, retryable, possibly sent', () => {
    const cause = Object.assign(new Error('request to http://127.0.0.1/x failed, reason: socket hang up'), {
      code: 'ECONNRESET',
    })
    const error = mapSend(gaxiosError({ cause, code: 'ECONNRESET' }))
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true })
    expect(error.message).toBe('Could not reach Gmail (ECONNRESET); the message may have been sent')
  })

  it('says a refused connection did not send the message', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    const error = mapSend(gaxiosError({ cause }))
    expect(error).toMatchObject({
      code: 'NETWORK',
      retryable: true,
      message: 'Could not reach Gmail (ECONNREFUSED)',
    })
  })

  it.each(['ETIMEDOUT', 'TimeoutError', 'AbortError'])('maps %s to NETWORK, retryable', (code) => {
    expect(mapSend(gaxiosError({ code }))).toMatchObject({ code: 'NETWORK', retryable: true })
  })

  it('maps an unreachable token endpoint to NETWORK, retryable', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const error = gmailServiceError(gaxiosError({ cause }), { stage: 'token', now: NOW })
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true })
    expect(error.message).toBe("Could not reach Google's token endpoint (ECONNREFUSED)")
  })

  it('maps an unknown non-network error to INTERNAL, not retryable', () => {
    expect(mapSend(new TypeError('Cannot read properties of undefined'))).toMatchObject({
      code: 'INTERNAL',
      retryable: false,
    })
  })

  it('passes a ServiceError through unchanged', () => {
    const original = new ServiceError('ACCOUNT_NOT_CONNECTED', 'No such account')
    expect(mapSend(original)).toBe(original)
  })

  it('never copies the token, the URL or the library message into the error', () => {
    const cases = [
      gaxiosError({ status: 429, data: gmailBody(429, 'rateLimitExceeded', 'Rate limit exceeded') }),
      gaxiosError({ status: 400, data: { error: 'invalid_grant' } }),
      gaxiosError({ status: 500, data: `Bearer ${SECRET}` }),
      gaxiosError({ code: 'ECONNRESET' }),
    ]
    for (const original of cases) {
      const error = mapSend(original)
      expect(error.message).not.toContain(SECRET)
      expect(error.message).not.toContain('googleapis.com')
      expect(error.cause).toBeUndefined()
      expect(JSON.stringify(error)).not.toContain(SECRET)
    }
  })

  it('keeps Google message on one bounded line', () => {
    const error = mapSend(
      gaxiosError({
        status: 400,
        data: gmailBody(400, 'invalidArgument', `bad\r\nheader ${'x'.repeat(500)}`),
      }),
    )
    expect(error.message).not.toMatch(/[\r\n]/)
    expect(error.message.length).toBeLessThan(400)
  })
})
