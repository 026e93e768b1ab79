/**
 * A message sent as a stream: `uploadType=media` (the body is the message,
 * its length given as Content-Length, so that the upload is not chunked
 * where the runtime's fetch honours it), or `uploadType=multipart` with a
 * thread, whose body googleapis-common builds by piping the stream. Either
 * way the bytes go from storage to the socket a chunk at a time. When the
 * stored body fails its check while it is read (`BODY_DAMAGED`, thrown
 * before its last chunk, so Gmail never sees a complete message), that
 * error, not the broken request's, is what the caller gets.
 */
import { Readable } from 'node:stream'
import type { gmail_v1 } from '@googleapis/gmail'
import type { OAuth2Client } from 'google-auth-library'
import type { MessageStream } from '../../domain/ports.ts'

interface CallOptions {
  rootUrl: string
  timeout: number
  retry: boolean
}

export async function postStream(
  api: gmail_v1.Gmail,
  auth: OAuth2Client,
  message: MessageStream,
  threadId: string | undefined,
  callOptions: CallOptions,
): Promise<unknown> {
  let sourceError: unknown
  // A failing stream aborts the request: piped into the multipart body, or read by fetch, its
  // error would otherwise leave the request waiting for bytes that never come.
  const abort = new AbortController()
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      yield* message.open()
    } catch (error) {
      sourceError = error
      abort.abort(error)
      throw error
    }
  }
  const body = Readable.from(source(), { objectMode: false })
  // The error reaches the caller through the abort; as an event it would be unhandled.
  body.on('error', () => {})
  const media = { mimeType: 'message/rfc822', body }
  const options = { ...callOptions, signal: abort.signal }
  try {
    if (threadId === undefined) {
      const headers = { 'Content-Length': String(message.size) }
      return (await api.users.messages.send({ userId: 'me', auth, media }, { ...options, headers })).data
    }
    const params = { userId: 'me', auth, media, requestBody: { threadId } }
    return (await api.users.messages.send(params, options)).data
  } catch (error) {
    throw sourceError ?? error
  } finally {
    body.destroy()
  }
}
