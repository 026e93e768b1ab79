/**
 * Helpers of the security tests: raw HTTP requests (declared lengths,
 * chunked bodies), the reason an error answer gives, the admin's browser
 * session, and the OAuth flow step by step.
 */
import { request } from 'node:http'
import type { EmulatorControl } from '../../src/emulator/emulator.ts'
import { cookieFrom } from '../support/connect.ts'

export interface Answer {
  status: number
  headers: Headers
  text: string
}

export async function answerOf(response: Response): Promise<Answer> {
  return { status: response.status, headers: response.headers, text: await response.text() }
}

/** The human reason an error answer gives: tRPC `error.message` (first of a batch), JSON `error.message`, or the page text. */
export function reasonOf(answer: Answer): string {
  try {
    const json = JSON.parse(answer.text) as unknown
    const first = Array.isArray(json) ? json[0] : json
    const message = (first as { error?: { message?: unknown } })?.error?.message
    if (typeof message === 'string') return message
  } catch {
    // Not JSON: a page or plain text.
  }
  return answer.text
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

/** The stable `data.code` of a tRPC error answer (first of a batch). */
export function dataCodeOf(answer: Answer): string | undefined {
  try {
    const json = JSON.parse(answer.text) as unknown
    const first = Array.isArray(json) ? json[0] : json
    return (first as { error?: { data?: { code?: string } } })?.error?.data?.code
  } catch {
    return undefined
  }
}

export interface RawAnswer {
  status: number
  body: string
  /** Bytes the client had written when the answer came. */
  bytesWritten: number
}

/**
 * A POST through node:http: with `declaredLength` the headers announce that
 * many bytes and none are sent; with `chunks` the body goes chunked, 1 MiB a
 * chunk, until the server answers or all are written.
 */
export function rawPost(
  url: string,
  options: { headers?: Record<string, string>; declaredLength?: number; chunks?: number },
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const target = new URL(url)
    const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers }
    if (options.declaredLength !== undefined) headers['Content-Length'] = String(options.declaredLength)
    const outgoing = request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: 'POST',
      headers,
    })
    let written = 0
    let answered = false
    outgoing.on('response', (incoming) => {
      answered = true
      let body = ''
      incoming.setEncoding('utf8')
      incoming.on('data', (chunk: string) => {
        body += chunk
      })
      incoming.on('end', () => {
        resolve({ status: incoming.statusCode ?? 0, body, bytesWritten: written })
        outgoing.destroy()
      })
    })
    outgoing.on('error', (error) => {
      if (!answered) resolve({ status: -1, body: String(error), bytesWritten: written })
    })
    if (options.declaredLength !== undefined) {
      outgoing.flushHeaders()
      return
    }
    const chunk = Buffer.alloc(1024 * 1024, 0x61)
    let sent = 0
    const pump = () => {
      while (!answered && sent < (options.chunks ?? 0)) {
        sent++
        written += chunk.length
        if (!outgoing.write(chunk)) {
          outgoing.once('drain', pump)
          return
        }
      }
      if (!answered) outgoing.end()
    }
    pump()
  })
}

/** Total calls the emulator saw, by endpoint. */
export function callCounts(control: EmulatorControl): Record<string, number> {
  return { ...control.stats().calls }
}

/** The admin's browser session: signs in through the form, returns the cookie pair and the page's CSRF token. */
export async function signIn(
  url: string,
  adminToken: string,
): Promise<{ cookie: string; setCookie: string; csrf: string }> {
  const response = await fetch(`${url}/admin/login`, {
    method: 'POST',
    body: new URLSearchParams({ token: adminToken, next: '/admin' }),
    redirect: 'manual',
  })
  if (response.status !== 303) throw new Error(`Sign-in answered ${response.status}`)
  const setCookie = response.headers.getSetCookie().find((header) => header.startsWith('admin_session='))!
  const cookie = setCookie.split(';')[0]!
  const page = await (await fetch(`${url}/admin`, { headers: { Cookie: cookie } })).text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1]
  if (!csrf) throw new Error('The console page carries no CSRF token')
  return { cookie, setCookie, csrf }
}

/** The first half of the OAuth flow: /oauth/login and the emulator's consent, not yet the callback. */
export async function authorize(options: {
  url: string
  adminToken: string
  control: EmulatorControl
  email: string
  loginHint?: string
}): Promise<{ authorizationUrl: string; callbackUrl: string; stateCookie: string; state: string }> {
  const query = options.loginHint ? `?login_hint=${encodeURIComponent(options.loginHint)}` : ''
  const login = await fetch(`${options.url}/oauth/login${query}`, {
    headers: { Authorization: `Bearer ${options.adminToken}` },
    redirect: 'manual',
  })
  if (login.status !== 302) throw new Error(`/oauth/login answered ${login.status}`)
  const authorizationUrl = login.headers.get('location')!
  const stateCookie = cookieFrom(login, 'oauth_state')!
  const callbackUrl = await options.control.approveConsent(authorizationUrl, options.email)
  return {
    authorizationUrl,
    callbackUrl,
    stateCookie,
    state: new URL(authorizationUrl).searchParams.get('state')!,
  }
}

/** Lists every file and folder under `dir`, with its permission bits. */
export async function walk(dir: string): Promise<Array<{ path: string; mode: number; directory: boolean }>> {
  const { readdir, stat } = await import('node:fs/promises')
  const { join } = await import('node:path')
  const out: Array<{ path: string; mode: number; directory: boolean }> = []
  const visit = async (path: string) => {
    const info = await stat(path)
    out.push({ path, mode: info.mode & 0o777, directory: info.isDirectory() })
    if (info.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name))
  }
  await visit(dir)
  return out
}
