import { describe, expect, it } from 'vitest'
import {
  isInvalidGrant,
  oauthEndpointError,
  oauthErrorCode,
} from '../../../src/adapters/google-oauth/errors.ts'

function gaxiosError(status: number | undefined, data?: unknown): Error {
  const error = new Error('request failed: client_secret=shh')
  const config = { data: 'client_secret=shh&refresh_token=1//secret' }
  return Object.assign(error, status === undefined ? { config } : { config, response: { status, data } })
}

const options = {
  code: 'OAUTH_EXCHANGE_FAILED',
  endpoint: "Google's token endpoint",
  refusal: 'Google refused the authorization code',
} as const

describe('isInvalidGrant', () => {
  it('recognises a refused refresh token', () => {
    expect(
      isInvalidGrant(
        gaxiosError(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' }),
      ),
    ).toBe(true)
  })

  it('does not mistake other failures for it', () => {
    expect(isInvalidGrant(gaxiosError(400, { error: 'invalid_client' }))).toBe(false)
    expect(isInvalidGrant(gaxiosError(undefined))).toBe(false)
    expect(isInvalidGrant(new Error('invalid_grant'))).toBe(false)
    expect(isInvalidGrant(undefined)).toBe(false)
  })
})

describe('oauthErrorCode', () => {
  it('refuses to quote an error field that is not a short code', () => {
    expect(oauthErrorCode(gaxiosError(400, { error: 'has spaces and 1//secret' }))).toBeUndefined()
  })
})

describe('oauthEndpointError', () => {
  it('quotes only Google error code for a refusal, not retryable', () => {
    const error = oauthEndpointError(
      gaxiosError(400, { error: 'invalid_grant', error_description: 'Bad code' }),
      options,
    )
    expect(error).toMatchObject({
      code: 'OAUTH_EXCHANGE_FAILED',
      retryable: false,
      message: 'Google refused the authorization code: invalid_grant',
    })
  })

  it('makes a 5xx retryable', () => {
    expect(oauthEndpointError(gaxiosError(503, 'down'), options)).toMatchObject({
      code: 'OAUTH_EXCHANGE_FAILED',
      retryable: true,
      message: "Google's token endpoint answered 503",
    })
  })

  it('makes an unreachable endpoint retryable without quoting the library', () => {
    const error = oauthEndpointError(gaxiosError(undefined), options)
    expect(error).toMatchObject({ retryable: true, message: "Could not reach Google's token endpoint" })
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('secret')
  })

  it('uses the refusal code for a refusal when one is given', () => {
    const error = oauthEndpointError(gaxiosError(400, { error: 'unsupported_token_type' }), {
      ...options,
      code: 'NETWORK',
      refusalCode: 'INTERNAL',
    })
    expect(error.code).toBe('INTERNAL')
  })
})
