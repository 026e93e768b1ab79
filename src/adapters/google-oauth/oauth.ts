/**
 * Google's OAuth 2.0 for a web server app, with PKCE, through
 * google-auth-library's OAuth2Client.
 * https://developers.google.com/identity/protocols/oauth2/web-server
 */
import { type CodeChallengeMethod, type Credentials, OAuth2Client } from 'google-auth-library'
import { type GrantedTokens, REQUIRED_SCOPES } from '../../domain/credentials/account.ts'
import { ServiceError } from '../../domain/errors.ts'
import type { OAuthPort } from '../../domain/ports.ts'
import { oauthEndpointError, oauthErrorCode } from './errors.ts'
import { grantedTokens, watchTokenRefreshes } from './tokens.ts'
import { fetchUserInfoEmail } from './userinfo.ts'

export interface GoogleOAuthConfig {
  clientId: string
  clientSecret: string
  /** Must equal the registered redirect URI exactly, trailing slash included. */
  redirectUri: string
  authUrl: string
  tokenUrl: string
  revokeUrl: string
  userinfoUrl: string
  /** Per HTTP request to Google (token, revoke, userinfo, and Gmail through the client). Default 30 s. */
  timeoutMs?: number
  /** Epoch ms, to date a refresh token's lifetime (`refresh_token_expires_in`); default `Date.now`. */
  now?: () => number
}

/** The stored credentials of one account, as `authorizedClient` takes them. */
export interface AccountCredentials {
  refreshToken: string
  accessToken?: string
  /** Epoch ms. */
  accessTokenExpiresAt?: number
}

export interface GoogleOAuth extends OAuthPort {
  /**
   * An OAuth2Client acting as one account: it refreshes the access token by
   * itself (coalescing concurrent refreshes), forces a refresh on a 401, and
   * reports every refresh to `onTokens` (`refreshToken` only when rotated).
   * `onTokens` is called synchronously and must not throw.
   */
  authorizedClient(credentials: AccountCredentials, onTokens: (tokens: GrantedTokens) => void): OAuth2Client
}

const TOKEN_ENDPOINT = "Google's token endpoint"

/** Builds the OAuth port on google-auth-library, pointed at `config`'s endpoints. */
export function createGoogleOAuth(config: GoogleOAuthConfig): GoogleOAuth {
  const timeoutMs = config.timeoutMs ?? 30_000
  const now = config.now ?? Date.now
  const newClient = (): OAuth2Client =>
    new OAuth2Client({
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      redirectUri: config.redirectUri,
      endpoints: {
        oauth2AuthBaseUrl: config.authUrl,
        oauth2TokenUrl: config.tokenUrl,
        oauth2RevokeUrl: config.revokeUrl,
      },
      // Off on purpose: with it the library treats every 403 (Gmail's rate
      // limits too) like a 401, refreshing the token and resending at once,
      // just when Google asks us to back off. The Gmail transport refreshes
      // and resends once on a 401 itself.
      forceRefreshOnFailure: false,
      transporterOptions: { timeout: timeoutMs },
    })
  // Holds no credentials: used for the authorization URL, code exchange and revocation only.
  const base = newClient()

  return {
    async createCodeVerifier() {
      const { codeVerifier, codeChallenge } = await base.generateCodeVerifierAsync()
      if (codeChallenge === undefined)
        throw new ServiceError('INTERNAL', 'Could not derive a PKCE code challenge')
      return { codeVerifier, codeChallenge }
    },

    authorizationUrl({ state, codeChallenge, loginHint }) {
      return base.generateAuthUrl({
        access_type: 'offline',
        // A refresh token comes back only when the consent screen was shown.
        prompt: 'consent',
        scope: [...REQUIRED_SCOPES],
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256' as CodeChallengeMethod,
        ...(loginHint === undefined ? {} : { login_hint: loginHint }),
      })
    },

    async exchangeCode({ code, codeVerifier }) {
      let tokens: Credentials
      try {
        ;({ tokens } = await base.getToken({ code, codeVerifier }))
      } catch (error) {
        throw oauthEndpointError(error, {
          code: 'OAUTH_EXCHANGE_FAILED',
          endpoint: TOKEN_ENDPOINT,
          refusal: 'Google refused the authorization code',
        })
      }
      const refreshToken = typeof tokens.refresh_token === 'string' ? tokens.refresh_token : undefined
      return grantedTokens(tokens, refreshToken === '' ? undefined : refreshToken, now())
    },

    fetchAccountEmail(accessToken) {
      return fetchUserInfoEmail(config.userinfoUrl, accessToken, { timeoutMs })
    },

    async revoke(token) {
      try {
        await base.revokeToken(token)
      } catch (error) {
        // RFC 7009 §2.2: Google answers 400 invalid_token for a token it no longer knows.
        if (oauthErrorCode(error) === 'invalid_token') return
        throw oauthEndpointError(error, {
          code: 'NETWORK',
          endpoint: "Google's revocation endpoint",
          refusal: 'Google refused to revoke the token',
          refusalCode: 'INTERNAL',
        })
      }
    },

    authorizedClient(credentials, onTokens) {
      const client = newClient()
      client.setCredentials({
        refresh_token: credentials.refreshToken,
        ...(credentials.accessToken === undefined ? {} : { access_token: credentials.accessToken }),
        ...(credentials.accessTokenExpiresAt === undefined
          ? {}
          : { expiry_date: credentials.accessTokenExpiresAt }),
      })
      watchTokenRefreshes(client, onTokens, now)
      return client
    },
  }
}
