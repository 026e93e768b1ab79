/** An OAuth port that plays Google's part as each test needs. */
import type { GrantedTokens } from '../../src/domain/credentials/account.ts'
import { ServiceError } from '../../src/domain/errors.ts'
import type { OAuthPort } from '../../src/domain/ports.ts'

export interface FakeOAuth extends OAuthPort {
  /** What the next code exchange returns (or throws). */
  nextGrant: GrantedTokens | ServiceError
  email: string
  revoked: string[]
  exchanges: Array<{ code: string; codeVerifier: string }>
}

export const SEND_SCOPES = ['https://www.googleapis.com/auth/gmail.send', 'openid', 'email']

export function fakeOAuth(): FakeOAuth {
  let counter = 0
  const oauth: FakeOAuth = {
    nextGrant: { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: 0, scopes: SEND_SCOPES },
    email: 'support@example.com',
    revoked: [],
    exchanges: [],
    async createCodeVerifier() {
      counter++
      return { codeVerifier: `verifier-${counter}`, codeChallenge: `challenge-${counter}` }
    },
    authorizationUrl(request) {
      const params = new URLSearchParams({
        state: request.state,
        code_challenge: request.codeChallenge,
        prompt: 'consent',
      })
      if (request.loginHint) params.set('login_hint', request.loginHint)
      return `https://accounts.example/auth?${params}`
    },
    async exchangeCode(request) {
      oauth.exchanges.push(request)
      if (oauth.nextGrant instanceof ServiceError) throw oauth.nextGrant
      return oauth.nextGrant
    },
    fetchAccountEmail: async () => oauth.email,
    async revoke(token) {
      oauth.revoked.push(token)
    },
  }
  return oauth
}
