import { OAuth2Client } from 'google-auth-library'
import { describe, expect, it } from 'vitest'
import { createGmailTransport } from '../../../src/adapters/gmail/transport.ts'

/** A client whose every HTTP answer is `body`, so that no server is needed. */
function clientAnswering(body: unknown): OAuth2Client {
  const client = new OAuth2Client({
    transporterOptions: { fetchImplementation: (async () => Response.json(body)) as never },
  })
  client.setCredentials({ refresh_token: 'r', access_token: 'a', expiry_date: Date.now() + 3_600_000 })
  return client
}

describe('createGmailTransport', () => {
  it('turns an answer without id and threadId into a retryable GMAIL_UNAVAILABLE', async () => {
    const gmail = createGmailTransport({
      rootUrl: 'http://127.0.0.1:9/',
      authFor: async () => clientAnswering({ id: 'x' }),
    })
    await expect(gmail.send({ account: 'ann@example.com', raw: new Uint8Array([65]) })).rejects.toMatchObject(
      {
        code: 'GMAIL_UNAVAILABLE',
        retryable: true,
      },
    )
  })

  it('returns only the id and threadId of a good answer', async () => {
    const answer = { id: 'm1', threadId: 't1', labelIds: ['SENT'] }
    const gmail = createGmailTransport({
      rootUrl: 'http://127.0.0.1:9/',
      authFor: async () => clientAnswering(answer),
    })
    expect(await gmail.send({ account: 'ann@example.com', raw: new Uint8Array([65]) })).toEqual({
      id: 'm1',
      threadId: 't1',
    })
  })

  it('passes the account lookup failure through', async () => {
    const gmail = createGmailTransport({
      rootUrl: 'http://127.0.0.1:9/',
      authFor: async () => {
        throw Object.assign(new Error('No such account'), { code: 'ACCOUNT_NOT_CONNECTED' })
      },
    })
    await expect(gmail.send({ account: 'x@example.com', raw: new Uint8Array([65]) })).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_CONNECTED',
    })
  })
})
