/**
 * `npm run emulator` as its own process: a real service process, configured
 * with nothing but the lines the emulator printed, connects an account
 * through the emulator's consent page and sends through it.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChildService, serviceBaseEnv, startChildService } from '../support/child-service.ts'
import { cookieFrom } from '../support/connect.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const EMAIL = 'standalone@example.com'

interface EmulatorProcess {
  process: ChildProcess
  /** The `NAME=value` lines it printed for a service. */
  env: Record<string, string>
  output: string[]
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `node src/emulator/main.ts` and resolves once it printed its last env line. */
async function startEmulatorProcess(env: Record<string, string>): Promise<EmulatorProcess> {
  const child = spawn(resolve(ROOT, 'node_modules/.bin/node'), ['src/emulator/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  const printed: Record<string, string> = {}
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  )
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk))
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`The emulator did not start: ${output.join('')}`)), 20_000)
    let rest = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        output.push(line)
        const match = /^([A-Z_]+)=(.+)$/.exec(line)
        if (match) printed[match[1]!] = match[2]!
        if (match?.[1] === 'GMAIL_API_URL') {
          clearTimeout(timer)
          ready()
        }
      }
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      fail(new Error(`The emulator exited (${code}) before it was ready: ${output.join('\n')}`))
    })
  })
  return { process: child, env: printed, output, exited }
}

describe('the Google emulator on its own (npm run emulator)', () => {
  let emulator: EmulatorProcess
  let service: ChildService
  let dataDir: string

  beforeAll(async () => {
    emulator = await startEmulatorProcess({ EMULATOR_PORT: '0', EMULATOR_SENDS_PER_MINUTE: '5' })
    dataDir = await mkdtemp(join(tmpdir(), 'gmail-send-standalone-'))
    service = await startChildService({
      ...serviceBaseEnv(dataDir),
      ...emulator.env,
      GMAIL_SENDS_PER_MINUTE: '0',
    })
  })
  afterAll(async () => {
    for (const child of [service?.process, emulator?.process])
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await Promise.all([service?.exited, emulator?.exited])
    await rm(dataDir, { recursive: true, force: true })
  })

  it('prints every line a service needs, on a loopback port of its own', () => {
    expect(Object.keys(emulator.env).sort()).toEqual([
      'GMAIL_API_URL',
      'GOOGLE_AUTH_URL',
      'GOOGLE_CLIENT_ID',
      'GOOGLE_CLIENT_SECRET',
      'GOOGLE_REVOKE_URL',
      'GOOGLE_TOKEN_URL',
      'GOOGLE_USERINFO_URL',
    ])
    expect(emulator.env.GOOGLE_TOKEN_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/token$/)
    expect(emulator.output).toContain('  Quota:         5 sends a minute per account')
  })

  it('connects an account through its consent page, delivers a send, and stops on SIGTERM', async () => {
    const login = await fetch(`${service.url}/oauth/login`, {
      headers: { Authorization: `Bearer ${service.adminToken}` },
      redirect: 'manual',
    })
    expect(login.status).toBe(302)
    const authorizationUrl = new URL(login.headers.get('location')!)
    expect(authorizationUrl.href.startsWith(emulator.env.GOOGLE_AUTH_URL!)).toBe(true)

    const page = await fetch(authorizationUrl)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<form')
    const form = new URLSearchParams(authorizationUrl.searchParams)
    form.set('decision', 'allow')
    form.set('email', EMAIL)
    const consent = await fetch(authorizationUrl.origin + authorizationUrl.pathname, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    })
    expect(consent.status).toBe(302)
    const callback = await fetch(consent.headers.get('location')!, {
      headers: { Cookie: cookieFrom(login, 'oauth_state') ?? '' },
      redirect: 'manual',
    })
    expect(callback.headers.get('location')).toBe('/admin?notice=connected&subject=standalone%40example.com')

    const record = await service.client.mail.send.mutate({
      to: 'friend@example.net',
      subject: 'Through the standalone emulator',
      text: 'Hello',
    })
    expect(record.status).toBe('sent')

    const control = new URL('/_control/mailbox', emulator.env.GOOGLE_TOKEN_URL).href
    const mailbox = (await (await fetch(control)).json()) as {
      messages: { account: string; subject: string; to: string[] }[]
    }
    expect(mailbox.messages).toMatchObject([
      { account: EMAIL, subject: 'Through the standalone emulator', to: ['friend@example.net'] },
    ])

    emulator.process.kill('SIGTERM')
    expect(await emulator.exited).toEqual({ code: 0, signal: null })
  })
})
