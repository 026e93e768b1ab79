/**
 * Gmail's `users.messages.send` through the generated client of
 * `@googleapis/gmail`, as one connected account.
 * https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/send
 */
import { Buffer } from 'node:buffer'
import { Readable } from 'node:stream'
import { gmail } from '@googleapis/gmail'
import type { OAuth2Client } from 'google-auth-library'
import { z } from 'zod'
import { ServiceError } from '../../domain/errors.ts'
import type { GmailPort, MessageStream } from '../../domain/ports.ts'
import { gmailServiceError, statusOf } from './errors.ts'
import { postStream } from './stream-upload.ts'

export interface GmailTransportConfig {
  /** Gmail API root, e.g. `https://gmail.googleapis.com/`; used for uploads too. */
  rootUrl: string
  /** The authorized client of an account (see the google-oauth adapter's `authorizedClient`). */
  authFor: (account: string) => Promise<OAuth2Client>
  /**
   * Raw messages larger than this (in bytes) go by media upload: Gmail
   * refuses JSON bodies of about 5-6 MB with 413. Default 5,000,000.
   */
  uploadThresholdBytes?: number
  /** Per send request. Default 60 s. */
  timeoutMs?: number
}

/**
 * The runtime's fetch, where it can carry a send: not Deno's, which sends a
 * POST again when its pooled connection was reset, a duplicate when Gmail
 * had the message (`transport.test.ts` catches it).
 */
const runtimeFetch: typeof fetch | undefined =
  'Deno' in globalThis ? undefined : (input, init) => fetch(input, init)

const SentMessage = z.object({ id: z.string().min(1), threadId: z.string().min(1) })

/** Builds the Gmail port; the client is created once and shared by every account. */
export function createGmailTransport(config: GmailTransportConfig): GmailPort {
  const api = gmail({ version: 'v1', rootUrl: config.rootUrl })
  const threshold = config.uploadThresholdBytes ?? 5_000_000
  // The client-level rootUrl is ignored for uploads (they would go to Google), hence per call.
  // gaxios never retries a POST anyway; `retry: false` says the service owns retries.
  const callOptions = { rootUrl: config.rootUrl, timeout: config.timeoutMs ?? 60_000, retry: false }
  // gaxios picks node-fetch unless told otherwise. For the common send, a JSON body in memory,
  // Node's own fetch (undici) takes about a quarter less CPU a call (`bench/gmail-fetch.ts`);
  // streamed bodies keep node-fetch, whose streaming and Content-Length the upload path relies
  // on. A client given a fetch of its own keeps it.
  const jsonCallOptions =
    runtimeFetch === undefined ? callOptions : { ...callOptions, fetchImplementation: runtimeFetch }
  const jsonOptionsFor = (auth: OAuth2Client) =>
    auth.transporter.defaults.fetchImplementation === undefined ? jsonCallOptions : callOptions

  async function post(
    auth: OAuth2Client,
    raw: Uint8Array | MessageStream,
    threadId: string | undefined,
  ): Promise<unknown> {
    if (!(raw instanceof Uint8Array)) return postStream(api, auth, raw, threadId, callOptions)
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
    const thread = threadId === undefined ? {} : { threadId }
    if (raw.byteLength <= threshold) {
      const requestBody = { raw: bytes.toString('base64url'), ...thread }
      return (await api.users.messages.send({ userId: 'me', auth, requestBody }, jsonOptionsFor(auth))).data
    }
    // With metadata it goes as uploadType=multipart, whose builder pipes the body: it must be a stream.
    const media = {
      mimeType: 'message/rfc822',
      body: threadId === undefined ? bytes : Readable.from([bytes], { objectMode: false }),
    }
    const params =
      threadId === undefined
        ? { userId: 'me', auth, media }
        : { userId: 'me', auth, media, requestBody: thread }
    return (await api.users.messages.send(params, callOptions)).data
  }

  return {
    async send({ account, raw, threadId }) {
      const auth = await config.authFor(account)
      const stage = async <T>(name: 'token' | 'send', work: () => Promise<T>): Promise<T> => {
        try {
          return await work()
        } catch (error) {
          throw gmailServiceError(error, { stage: name, now: Date.now() })
        }
      }
      // Refreshing apart from the send tells a dead refresh token from a Gmail refusal.
      await stage('token', () => auth.getAccessToken())
      let answer: unknown
      try {
        answer = await post(auth, raw, threadId)
      } catch (error) {
        if (statusOf(error) !== 401) throw gmailServiceError(error, { stage: 'send', now: Date.now() })
        // A 401 with an access token that looked valid (revoked, or Google's clock
        // disagrees): refresh once and resend. A dead refresh token surfaces here as
        // REAUTHORIZATION_REQUIRED from the token stage.
        await stage('token', () => auth.refreshAccessToken())
        answer = await stage('send', () => post(auth, raw, threadId))
      }
      const sent = SentMessage.safeParse(answer)
      if (!sent.success) {
        const malformed = 'Gmail answered the send without a message id and thread id'
        throw new ServiceError('GMAIL_UNAVAILABLE', malformed, { retryable: true })
      }
      return { id: sent.data.id, threadId: sent.data.threadId }
    },
  }
}
