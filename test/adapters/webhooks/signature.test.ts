import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import {
  generateWebhookSecret,
  signWebhook,
  webhookSecretKey,
} from '../../../src/adapters/webhooks/signature.ts'

describe('webhook signatures', () => {
  it('makes whsec_ secrets of 32 random bytes, a different one each time', () => {
    const a = generateWebhookSecret()
    const b = generateWebhookSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
    expect(webhookSecretKey(a)).toHaveLength(32)
    expect(a).not.toBe(b)
  })

  it('signs as Standard Webhooks does: the standardwebhooks package verifies it and signs the same', () => {
    const secret = generateWebhookSecret()
    const id = 'evt_2Yz0example'
    const timestamp = Math.floor(Date.now() / 1000)
    const body = JSON.stringify({
      type: 'mail.sent',
      timestamp: new Date().toISOString(),
      data: { id: 'm1', subject: 'Grüße' },
    })
    const signature = signWebhook({ secret, id, timestamp, body })
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    const verifier = new Webhook(secret)
    expect(
      verifier.verify(body, {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      }),
    ).toEqual(JSON.parse(body))
    expect(verifier.sign(id, new Date(timestamp * 1000), body)).toBe(signature)
  })

  it('gives a signature that fails verification for another body, id or secret', () => {
    const secret = generateWebhookSecret()
    const timestamp = Math.floor(Date.now() / 1000)
    const signature = signWebhook({ secret, id: 'evt_1', timestamp, body: '{"a":1}' })
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    }
    expect(() => new Webhook(secret).verify('{"a":2}', headers)).toThrow()
    expect(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'evt_2' })).toThrow()
    expect(() => new Webhook(generateWebhookSecret()).verify('{"a":1}', headers)).toThrow()
  })

  it('refuses a secret that is not base64 of at least 24 bytes, without quoting it', () => {
    expect(() => webhookSecretKey('whsec_not base64!')).toThrow(/not base64/)
    expect(() => webhookSecretKey(`whsec_${Buffer.alloc(16).toString('base64')}`)).toThrow(
      /shorter than 24 bytes/,
    )
    let message = ''
    try {
      webhookSecretKey('whsec_hunter2!!')
    } catch (error) {
      message = String(error)
    }
    expect(message).toMatch(/Could not read the webhook secret/)
    expect(message).not.toContain('hunter2')
  })
})
