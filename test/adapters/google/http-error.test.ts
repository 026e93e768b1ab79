import { describe, expect, it } from 'vitest'
import { googleAnswerOf, oauthErrorOf } from '../../../src/adapters/google/http-error.ts'

describe("reading Google's HTTP error answers", () => {
  it('takes the status, body and headers of an answer, and nothing of a failure without one', () => {
    const error = Object.assign(new Error('Bearer ya29.secret in the message'), {
      response: { status: 400, data: { error: 'invalid_grant' }, headers: { 'retry-after': '5' } },
      config: { headers: { Authorization: 'Bearer ya29.secret' } },
    })
    expect(googleAnswerOf(error)).toEqual({
      status: 400,
      data: { error: 'invalid_grant' },
      headers: { 'retry-after': '5' },
    })
    expect(googleAnswerOf(new Error('socket hang up'))).toBeUndefined()
    expect(googleAnswerOf({ response: { status: '400' } })).toBeUndefined()
    expect(googleAnswerOf('400')).toBeUndefined()
  })

  it("quotes an OAuth error code only when it is a short word, never an API error's object", () => {
    expect(oauthErrorOf({ error: 'invalid_grant', error_description: 'Bad Request' })).toBe('invalid_grant')
    expect(oauthErrorOf({ error: { code: 403, errors: [{ reason: 'dailyLimitExceeded' }] } })).toBeUndefined()
    expect(oauthErrorOf({ error: 'ya29.a token with spaces' })).toBeUndefined()
    expect(oauthErrorOf({ error: 'x'.repeat(65) })).toBeUndefined()
    expect(oauthErrorOf(undefined)).toBeUndefined()
  })
})
