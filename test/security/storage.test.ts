/**
 * Secrets at rest and at start: encryption key rotation end to end, the
 * sandbox's own secrets file, owner-only DATA_DIR, and the sandbox's
 * refusal to listen anywhere but loopback.
 */
import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, readConfig } from '../../src/app/config.ts'
import { createMailClient } from '../../src/client.ts'
import { composeService } from '../../src/main/composition.ts'
import { connectAccount } from '../support/connect.ts'
import { type RunningEmulator, startEmulator } from '../support/emulator-server.ts'
import { spawnService } from '../support/process.ts'
import { type RunningService, startService } from '../support/service.ts'
import { walk } from './support.ts'

const KEY_A = Buffer.alloc(32, 0xa1).toString('base64')
const KEY_B = Buffer.alloc(32, 0xb2).toString('base64')
const keyId = (base64: string) =>
  createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex').slice(0, 8)
const EMAIL = 'rotate@example.com'

interface StoredAccounts {
  accounts: Record<string, { sealedRefreshToken?: string; sealedAccessToken?: string }>
}

describe('encryption key rotation, end to end', () => {
  let emulator: RunningEmulator
  let dataDir: string

  const env = (key: string) => ({
    GOOGLE_CLIENT_ID: 'rotation-client',
    GOOGLE_CLIENT_SECRET: 'rotation-client-secret-0123',
    GOOGLE_AUTH_URL: emulator.endpoints.authUrl,
    GOOGLE_TOKEN_URL: emulator.endpoints.tokenUrl,
    GOOGLE_REVOKE_URL: emulator.endpoints.revokeUrl,
    GOOGLE_USERINFO_URL: emulator.endpoints.userinfoUrl,
    GMAIL_API_URL: emulator.endpoints.gmailApiUrl,
    TOKEN_ENCRYPTION_KEY: key,
    GMAIL_SENDS_PER_MINUTE: '0',
  })
  const sealedKeyIds = async () => {
    const stored = JSON.parse(await readFile(join(dataDir, 'accounts.json'), 'utf8')) as StoredAccounts
    const account = stored.accounts[EMAIL]!
    return [account.sealedRefreshToken, account.sealedAccessToken].map((sealed) => sealed?.split('.')[1])
  }
  const sendWith = async (running: RunningService, subject: string) =>
    (await running.client.mail.send.mutate({ to: 'a@example.net', subject, text: 'x' })).status

  beforeAll(async () => {
    emulator = await startEmulator()
    dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-rotation-'))
  })
  afterAll(async () => {
    await emulator?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('re-encrypts stored tokens under the new key at start, and they keep working', async () => {
    const first = await startService(env(KEY_A), { dataDir })
    await connectAccount({
      url: first.url,
      adminToken: first.adminToken,
      control: emulator.emulator.control,
      email: EMAIL,
    })
    expect(await sendWith(first, 'under A')).toBe('sent')
    await first.stop({ keepData: true })
    expect(await sealedKeyIds()).toEqual([keyId(KEY_A), keyId(KEY_A)])

    // New key first, old key after it.
    const second = await startService(env(`${KEY_B}, ${KEY_A}`), { dataDir })
    expect(await sealedKeyIds()).toEqual([keyId(KEY_B), keyId(KEY_B)])
    emulator.emulator.control.expireAccessTokens() // the refresh token itself must be usable
    expect(await sendWith(second, 'under B, A')).toBe('sent')
    await second.stop({ keepData: true })

    // The old key can now go.
    const third = await startService(env(KEY_B), { dataDir })
    expect(await sendWith(third, 'under B')).toBe('sent')
    await third.stop({ keepData: true })
    expect(await sealedKeyIds()).toEqual([keyId(KEY_B), keyId(KEY_B)])
  })

  it('refuses to start without the key that sealed the tokens, naming the variable and no key', async () => {
    const attempt = startService(env(KEY_A), { dataDir })
    await expect(attempt).rejects.toThrow(/TOKEN_ENCRYPTION_KEY no longer holds/)
    const message = await attempt.then(
      () => '',
      (caught: Error) => caught.message,
    )
    expect(message).not.toContain(KEY_A)
    expect(message).not.toContain(KEY_B)
  })
})

describe('sandbox mode’s own secrets', () => {
  it('keeps its generated secrets only in sandbox-secrets.json (0600), and OAuth tokens in no file in clear', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-sandbox-secrets-'))
    await chmod(dataDir, 0o755)
    const running = await startService(
      { ADMIN_TOKEN: '', API_KEYS: '', GMAIL_SENDS_PER_MINUTE: '0' },
      { dataDir },
    )
    const control = running.service.sandbox!.control
    const adminToken = running.service.config.adminToken!
    const apiKey = running.service.config.apiKeys![0]!
    const encryptionKey = running.service.config.tokenEncryptionKey!
    const clientSecret = running.service.config.google!.clientSecret
    await connectAccount({ url: running.url, adminToken, control, email: 'sand@example.com' })
    const client = createMailClient({ url: `${running.url}/trpc`, apiKey })
    expect((await client.mail.send.mutate({ to: 'a@example.net', subject: 's', text: 't' })).status).toBe(
      'sent',
    )
    const grants = control.exportGrants() as {
      refreshTokens: Array<{ token: string }>
      accessTokens: Array<{ token: string }>
    }
    const tokens = [...grants.refreshTokens, ...grants.accessTokens].map((grant) => grant.token)
    expect(tokens.length).toBeGreaterThanOrEqual(2)
    await running.stop({ keepData: true })
    try {
      const entries = await walk(dataDir)
      for (const entry of entries) {
        expect(entry.mode.toString(8), entry.path).toBe(entry.directory ? '700' : '600')
      }
      const files = entries.filter((entry) => !entry.directory)
      expect(files.map((file) => file.path)).toEqual(
        expect.arrayContaining([
          join(dataDir, 'sandbox-secrets.json'),
          join(dataDir, 'sandbox-google.sealed'),
        ]),
      )
      for (const file of files) {
        const content = await readFile(file.path, 'latin1')
        for (const token of tokens) expect(content.includes(token), `a token in ${file.path}`).toBe(false)
        const own = file.path.endsWith('sandbox-secrets.json')
        for (const secret of [adminToken, apiKey, encryptionKey, clientSecret]) {
          expect(content.includes(secret), `a sandbox secret in ${file.path}`).toBe(own)
        }
      }
      // The generated secrets are never logged (the start banner prints them to the console, not the log).
      const logs = running.logs.join('\n')
      for (const secret of [adminToken, apiKey, encryptionKey, clientSecret, ...tokens]) {
        expect(logs.includes(secret)).toBe(false)
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('makes a DATA_DIR created elsewhere, and its subfolders, owner-only', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'gmail-send-modes-'))
    const dataDir = join(parent, 'nested', 'data')
    await mkdir(dataDir, { recursive: true, mode: 0o777 })
    await chmod(dataDir, 0o777)
    const running = await startService({}, { dataDir })
    await running.stop({ keepData: true })
    try {
      for (const entry of await walk(dataDir)) {
        expect(entry.mode.toString(8), entry.path).toBe(entry.directory ? '700' : '600')
      }
    } finally {
      await rm(parent, { recursive: true, force: true })
    }
  })
})

describe('the sandbox listens on loopback only', () => {
  it('refuses a non-loopback HOST in sandbox mode with one line naming HOST', () => {
    for (const host of [
      '0.0.0.0',
      '::',
      '192.168.1.10',
      '127.attacker.example',
      '127.0.0.256',
      'example.com',
    ]) {
      expect(() => readConfig({ HOST: host }), host).toThrow(ConfigError)
      expect(() => readConfig({ HOST: host }), host).toThrow(
        /^HOST is invalid: sandbox mode listens on loopback only/,
      )
    }
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) {
      expect(readConfig({ HOST: host }).host).toBe(host)
    }
  })

  it('lets real mode listen anywhere', () => {
    const config = readConfig({
      HOST: '0.0.0.0',
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 'secret',
      API_KEYS: 'a-long-enough-api-key-0123',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      TOKEN_ENCRYPTION_KEY: KEY_A,
    })
    expect(config.host).toBe('0.0.0.0')
  })

  it('refuses it in composeService too, for a configuration built without readConfig', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-host-'))
    try {
      const config = { ...readConfig({ DATA_DIR: dataDir }), host: '0.0.0.0' }
      await expect(composeService({ config, boundPort: 1 })).rejects.toThrow(ConfigError)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('exits with code 1 and one clear line when started with HOST=0.0.0.0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-host-'))
    try {
      const child = spawnService('node_modules/.bin/node', ['src/main/node.ts'], {
        HOST: '0.0.0.0',
        PORT: '0',
        DATA_DIR: dataDir,
      })
      expect(await child.exited).toBe(1)
      const lines = child.output().trim().split('\n')
      expect(lines).toEqual([
        'Configuration error: HOST is invalid: sandbox mode listens on loopback only (set GOOGLE_CLIENT_ID to serve on 0.0.0.0)',
      ])
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
