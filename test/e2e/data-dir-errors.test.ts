/**
 * A DATA_DIR the service cannot use stops the start with one line that names
 * the variable and says the cause in words, the same in sandbox and real
 * mode: a file where the folder should be, a folder under a file, and a
 * read-only file system (a read-only tmpfs, mounted when the test runs as
 * root; skipped with a printed line otherwise).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEST_ENCRYPTION_KEY } from '../support/child-service.ts'
import { TEST_ADMIN_TOKEN, TEST_API_KEY } from '../support/service.ts'

const ROOT = resolve(import.meta.dirname, '../..')

const MODES: Record<string, Record<string, string>> = {
  sandbox: {},
  real: {
    GOOGLE_CLIENT_ID: 'client-1.apps.googleusercontent.com',
    GOOGLE_CLIENT_SECRET: 'client-secret-for-tests',
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    API_KEYS: TEST_API_KEY,
    TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  },
}

/** Starts `node src/main/node.ts` with DATA_DIR and waits for it to exit: its code and what it wrote to stderr. */
function startWith(
  dataDir: string,
  mode: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(resolve(ROOT, 'node_modules/.bin/node'), ['src/main/node.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ...mode },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      done({ code, stderr })
    })
  })
}

/** The same one line, and exit code 1, in both modes. */
async function expectStartFailure(dataDir: string, line: string): Promise<void> {
  const [sandbox, real] = await Promise.all([
    startWith(dataDir, MODES.sandbox!),
    startWith(dataDir, MODES.real!),
  ])
  for (const outcome of [sandbox, real]) {
    expect(outcome.code).toBe(1)
    expect(outcome.stderr).toBe(`${line}\n`)
  }
}

describe('a DATA_DIR the service cannot use', () => {
  let base: string
  let readOnly: string | undefined

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'gmail-send-data-dir-'))
    await writeFile(join(base, 'a-file'), 'not a folder')
    const mountPoint = join(base, 'read-only')
    await mkdir(mountPoint)
    const mounted =
      process.getuid?.() === 0 &&
      spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mountPoint]).status === 0
    if (mounted) readOnly = mountPoint
    else console.log('Skipping the read-only DATA_DIR case: mounting a read-only tmpfs needs root')
  })
  afterAll(async () => {
    if (readOnly !== undefined) spawnSync('umount', [readOnly])
    await rm(base, { recursive: true, force: true })
  })

  it('says a file is in the way when DATA_DIR is a file', async () => {
    const path = join(base, 'a-file')
    await expectStartFailure(path, `Start failed: DATA_DIR ${path} is not a directory (a file is in the way)`)
  })

  it('names the file on the way when DATA_DIR is under a file', async () => {
    const path = join(base, 'a-file', 'data')
    await expectStartFailure(
      path,
      `Start failed: DATA_DIR ${path} cannot be created: ${join(base, 'a-file')} is a file, not a directory`,
    )
  })

  it('says the file system is read-only, for the folder itself and for one to create in it', async (context) => {
    if (readOnly === undefined) return context.skip()
    const inside = join(readOnly, 'data')
    await Promise.all([
      expectStartFailure(readOnly, `Start failed: DATA_DIR ${readOnly} is on a read-only file system`),
      expectStartFailure(inside, `Start failed: DATA_DIR ${inside} is on a read-only file system`),
    ])
  })
})
