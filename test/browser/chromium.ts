/**
 * Debian's Chromium driven by playwright-core (which never downloads a
 * browser). A missing browser fails the suite with a clear message, unless
 * SKIP_BROWSER_TESTS=1 says to skip it on purpose.
 */
import { access, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

export const CHROMIUM_PATH = '/usr/bin/chromium'
export const SKIP_BROWSER_TESTS = process.env['SKIP_BROWSER_TESTS'] === '1'

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

export async function launchChromium(): Promise<Browser> {
  if (!(await exists(CHROMIUM_PATH))) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium", or set SKIP_BROWSER_TESTS=1 to skip them`,
    )
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * Presses Tab until the focused element's text starts with `name` (its
 * visible label; hidden context may follow), as a keyboard user would.
 */
export async function tabTo(page: Page, name: string, maxPresses = 80): Promise<void> {
  for (let presses = 0; presses < maxPresses; presses++) {
    await page.keyboard.press('Tab')
    const text =
      (
        await page
          .locator(':focus')
          .first()
          .textContent()
          .catch(() => null)
      )?.trim() ?? ''
    if (text.startsWith(name)) return
  }
  throw new Error(`Tab never reached "${name}" in ${maxPresses} presses`)
}

/** Writes a screenshot for the docs only when asked to (UPDATE_SCREENSHOTS=1) or when it is missing. */
export async function documentScreenshot(page: Page, path: string): Promise<void> {
  if (process.env['UPDATE_SCREENSHOTS'] !== '1' && (await exists(path))) return
  await mkdir(dirname(path), { recursive: true })
  await page.screenshot({ path, fullPage: true })
}
