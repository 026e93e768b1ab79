/**
 * Error answers carry no stack, no token and no internal path, even when
 * something inside fails with all three in its message; the log gets the
 * details, redacted.
 */
import { describe, expect, it } from 'vitest'
import { createAdminSessions } from '../../src/adapters/http/admin-session.ts'
import { createHttpApp } from '../../src/adapters/http/app.ts'
import { createClientAddress } from '../../src/adapters/http/client-address.ts'
import type { HttpDeps } from '../../src/adapters/http/deps.ts'
import { createApiKeyCheck } from '../../src/adapters/http/secrets.ts'
import { createJsonLogger } from '../../src/adapters/log/json-logger.ts'
import { createAuthFailureGuard } from '../../src/app/auth-failures.ts'
import { memoryRequestBudget } from '../../src/app/memory-request-budget.ts'

const API_KEY = 'error-answers-api-key-0123456789'
const ADMIN = 'error-answers-admin-token-0123456789'
const LEAK =
  'ENOENT: no such file or directory, open /var/lib/gmail-send/data/accounts.json (token ya29.leaky-access-token)'

async function appWithFailures() {
  const lines: string[] = []
  const failing = async (): Promise<never> => {
    const error = new Error(LEAK)
    error.stack = `Error: ${LEAK}\n    at readAccounts (/work/main/src/adapters/lowdb/account-store.ts:51:3)`
    throw error
  }
  const deps = {
    publicUrl: 'http://127.0.0.1:1',
    sandbox: false,
    mail: { get: failing, list: failing, send: failing, sendBatch: failing, cancel: failing, retry: failing },
    accounts: { list: failing },
    authorization: { start: failing, complete: failing },
    countByStatus: failing,
    apiKeys: await createApiKeyCheck([API_KEY]),
    adminToken: ADMIN,
    adminSessions: await createAdminSessions(ADMIN),
    requestBudget: memoryRequestBudget({ perMinute: 0, clock: { now: () => 0 } }),
    authFailures: createAuthFailureGuard({ now: () => Date.now() }),
    clientAddress: createClientAddress([]),
    corsOrigins: [],
    readiness: failing,
    logger: createJsonLogger({ level: 'debug', write: (line) => lines.push(line) }),
    clock: { now: () => Date.now() },
  } as unknown as HttpDeps
  return { app: createHttpApp(deps), lines }
}

function expectClean(text: string) {
  expect(text).not.toMatch(/ya29|\/var\/lib|accounts\.json|ENOENT|\.ts:\d+|\bat [\w.]+ \(/)
}

describe('error answers', () => {
  it('hide an internal failure of a procedure behind a plain INTERNAL_SERVER_ERROR, and log it redacted', async () => {
    const { app, lines } = await appWithFailures()
    const response = await app.request('/trpc/mail.get?input=%7B%22id%22%3A%22x%22%7D', {
      headers: { Authorization: `Bearer ${API_KEY}` },
    })
    expect(response.status).toBe(500)
    const text = await response.text()
    expectClean(text)
    expect(JSON.parse(text)).toEqual({
      error: {
        message: 'An internal error occurred',
        code: -32603,
        data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500, path: 'mail.get' },
      },
    })
    const logged = lines.join('\n')
    expect(logged).toContain('Procedure failed')
    expect(logged).toContain('/var/lib/gmail-send/data/accounts.json')
    expect(logged).not.toContain('ya29.leaky')
    expect(logged).not.toContain('account-store.ts:51')
  })

  it('hide an internal failure of a route behind a plain INTERNAL answer', async () => {
    const { app, lines } = await appWithFailures()
    for (const [path, headers] of [
      ['/readyz', {}],
      ['/oauth/login', { Authorization: `Bearer ${ADMIN}` }],
      ['/oauth/callback?state=s&code=c', {}],
    ] as const) {
      const response = await app.request(path, { headers })
      expect(response.status, path).toBe(500)
      const text = await response.text()
      expectClean(text)
      expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'An internal error occurred' } })
    }
    expect(lines.join('\n')).not.toContain('ya29.leaky')
  })

  it('answer unknown routes with a plain 404', async () => {
    const { app } = await appWithFailures()
    const response = await app.request('/../../etc/passwd')
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No such route' } })
  })
})
