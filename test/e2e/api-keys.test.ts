/**
 * `admin.keys.*` through the real server and a real tRPC client: a key
 * made at run time works at once, is listed without itself, and once
 * revoked is refused at its very next request; the admin token is for
 * `admin.*` only, and an API key (configured or made) is refused there.
 */
import type { TRPCClientError } from '@trpc/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMailClient, type MailClient } from '../../src/client.ts'
import { refusalOf } from '../support/refusal.ts'
import { type RunningService, startConnectedService } from '../support/service.ts'

describe('API keys made and revoked at run time', () => {
  let running: RunningService
  let admin: MailClient
  const clientWith = (key: string) =>
    createMailClient({ url: `${running.url}/trpc`, apiKey: key, retries: 0 })

  beforeAll(async () => {
    running = await startConnectedService()
    admin = clientWith(running.adminToken)
  })
  afterAll(async () => {
    await running?.stop()
  })

  it('makes a key that works at once, lists it without the key, and refuses it at once once revoked', async () => {
    const made = await admin.admin.keys.create.mutate({ name: 'Billing service' })
    expect(made).toMatchObject({
      id: expect.stringMatching(/^key_/),
      key: expect.stringMatching(/^gms_[A-Za-z0-9_-]{43}$/),
      name: 'Billing service',
      scope: {},
      source: 'api',
      createdAt: expect.any(String),
    })
    const caller = clientWith(made.key)
    expect(await caller.accounts.list.query()).toEqual([
      expect.objectContaining({ email: 'support@example.com' }),
    ])
    const sent = await caller.mail.send.mutate({
      to: 'ann@example.com',
      subject: 'Invoice',
      text: 'Attached',
    })
    expect(sent.status).toBe('sent')

    const listed = await admin.admin.keys.list.query()
    expect(listed).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^key-[0-9a-f]{8}$/),
        source: 'config',
        scope: {},
      }),
      expect.objectContaining({
        id: made.id,
        name: 'Billing service',
        source: 'api',
        lastUsedAt: expect.any(String),
      }),
    ])
    expect(JSON.stringify(listed)).not.toContain(made.key)
    expect(JSON.stringify(listed)).not.toContain(running.apiKey)
    expect(JSON.stringify(listed)).not.toMatch(/digest|[0-9a-f]{64}/)

    const revoked = await admin.admin.keys.revoke.mutate({ id: made.id })
    expect(revoked).toMatchObject({ id: made.id, revokedAt: expect.any(String) })
    expect(await refusalOf(caller.accounts.list.query())).toEqual({
      code: 'UNAUTHORIZED',
      httpStatus: 401,
      message: 'The API key is not valid',
    })
    expect(await refusalOf(caller.mail.get.query({ id: sent.id }))).toMatchObject({ code: 'UNAUTHORIZED' })
    expect((await admin.admin.keys.list.query()).at(-1)).toMatchObject({
      id: made.id,
      revokedAt: revoked.revokedAt,
    })
    // The configured key is untouched, and the key never reached a log line.
    expect(await refusalOf(running.client.accounts.list.query())).toBe('OK')
    expect(running.logs.join('\n')).not.toContain(made.key)
  })

  it('refuses to revoke a configured key or an unknown one', async () => {
    const configured = (await admin.admin.keys.list.query())[0]!
    expect(await refusalOf(admin.admin.keys.revoke.mutate({ id: configured.id }))).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/comes from API_KEYS: remove it there and restart/),
    })
    expect(await refusalOf(admin.admin.keys.revoke.mutate({ id: 'key_unknown' }))).toMatchObject({
      code: 'NOT_FOUND',
      httpStatus: 404,
    })
    expect(await refusalOf(running.client.accounts.list.query())).toBe('OK')
  })

  it('refuses a scope with an unknown field or a bad value, making no key', async () => {
    const before = (await admin.admin.keys.list.query()).length
    const unknownField = admin.admin.keys.create.mutate({
      name: 'Typo',
      scope: { procedures: ['mail.send'], recipient: ['@example.com'] } as never,
    })
    expect(await refusalOf(unknownField)).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 })
    expect(
      await refusalOf(
        admin.admin.keys.create.mutate({
          name: 'Admin',
          scope: { procedures: ['admin.keys.create'] } as never,
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST' })
    expect(
      await refusalOf(
        admin.admin.keys.create.mutate({
          name: 'Path',
          scope: { origins: ['https://shop.example/contact'] },
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/no path/) })
    expect(await admin.admin.keys.list.query()).toHaveLength(before)
  })

  it('takes the admin token for admin.* only, and refuses it for mail.* and accounts.list', async () => {
    for (const call of [
      admin.mail.send.mutate({ to: 'ann@example.com', subject: 'x', text: 'y' }),
      admin.mail.list.query({}),
      admin.accounts.list.query(),
    ]) {
      expect(await refusalOf(call)).toMatchObject({
        code: 'UNAUTHORIZED',
        httpStatus: 401,
        message: expect.stringMatching(
          /^The admin token is for admin\.\* procedures only; (mail|accounts)\.\w+ needs an API key$/,
        ),
      })
    }
  })

  it('refuses every API key for admin.*, whatever its scope', async () => {
    const made = await admin.admin.keys.create.mutate({ name: 'Full' })
    for (const key of [running.apiKey, made.key]) {
      for (const call of [
        clientWith(key).admin.keys.list.query(),
        clientWith(key).admin.keys.create.mutate({ name: 'Escalated' }),
        clientWith(key).admin.keys.revoke.mutate({ id: made.id }),
      ]) {
        expect(await refusalOf(call)).toEqual({
          code: 'UNAUTHORIZED',
          httpStatus: 401,
          message: 'The admin API needs the admin token: API keys are refused for admin.* procedures',
        })
      }
    }
    expect((await admin.admin.keys.list.query()).filter((key) => key.name === 'Escalated')).toEqual([])
    expect(await refusalOf(clientWith(made.key).accounts.list.query())).toBe('OK')
  })

  it('refuses a batch that mixes admin.* with mail.*, for the admin token and for a key alike', async () => {
    const [adminMixed, keyMixed] = await Promise.all([
      Promise.allSettled([admin.admin.keys.list.query(), admin.mail.list.query({})]),
      Promise.allSettled([running.client.mail.list.query({}), running.client.admin.keys.list.query()]),
    ])
    for (const settled of [...adminMixed, ...keyMixed]) {
      expect(settled.status).toBe('rejected')
      expect(((settled as PromiseRejectedResult).reason as TRPCClientError<never>).data).toMatchObject({
        code: 'UNAUTHORIZED',
      })
    }
  })
})
