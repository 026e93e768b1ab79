/**
 * The expiry banner in a real browser: an app in Testing
 * (`GOOGLE_APP_TESTING=true`) in sandbox mode, on a clock the test moves.
 * The admin sees the deadline in the accounts table, the banner 24 h
 * before it, and reauthorizes from the banner's link through the emulated
 * consent page, which brings a new deadline and ends the banner.
 */
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { leap, type ManualTime, manualTime } from '../fakes/clock.ts'
import { type RunningService, startService } from '../support/service.ts'
import { documentScreenshot, launchChromium, SKIP_BROWSER_TESTS } from './chromium.ts'

const screenshot = (name: string) => fileURLToPath(new URL(`../../docs/screenshots/${name}`, import.meta.url))
const EMAIL = 'support@example.com'
const day = 86_400_000
const minute = 60_000

describe.skipIf(SKIP_BROWSER_TESTS)('the expiry banner in a browser (an app in Testing)', () => {
  let running: RunningService
  let time: ManualTime
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const at = (path: string) => `${running.url}${path}`
  const accountRow = () => page.locator('table.accounts tr', { hasText: EMAIL })
  /** Admin sessions last 12 h on the service's clock: after days have passed, the admin signs in again. */
  const signIn = async () => {
    await page.goto(at('/admin'))
    expect(new URL(page.url()).pathname).toBe('/admin/login')
    await page.getByLabel('Admin token').fill(running.adminToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(at('/admin'))
  }
  const deadlineShown = () => accountRow().locator('time').nth(2).getAttribute('datetime')

  beforeAll(async () => {
    browser = await launchChromium()
    time = manualTime(Date.now())
    running = await startService(
      { GMAIL_SENDS_PER_MINUTE: '0', GOOGLE_APP_TESTING: 'true' },
      { clock: time, scheduler: time },
    )
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    context.setDefaultTimeout(10_000)
    page = await context.newPage()
    await signIn()
  })
  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await running?.stop()
  })

  it('shows the deadline 7 days after consent in the accounts table, with no banner yet', async () => {
    const consentAt = time.now()
    await page.getByRole('link', { name: 'Connect an account' }).click()
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL(
      (url) => url.pathname === '/admin' && url.searchParams.get('notice') === 'connected',
    )
    expect(await page.locator('table.accounts th').allTextContents()).toContain('Google access ends')
    expect(await deadlineShown()).toBe(new Date(consentAt + 7 * day).toISOString())
    expect(await page.getByText('must be reauthorized before').count()).toBe(0)
  })

  it('shows the banner 24 h before, and its link reauthorizes the account: a new deadline, no banner', async () => {
    const before = await deadlineShown()
    await leap(time, 6 * day + 60 * minute)
    await signIn()
    const banner = page.getByRole('alert').filter({ hasText: 'must be reauthorized before' })
    expect(await banner.textContent()).toContain(`${EMAIL} must be reauthorized before`)
    expect(await banner.textContent()).toContain("Google ends this app's access then")
    await documentScreenshot(page, screenshot('expiry-banner.png'))

    const reconsentAt = time.now()
    await banner.getByRole('link', { name: `Reauthorize ${EMAIL}` }).click()
    // The consent page knows the account already (login_hint).
    expect(await page.getByLabel('Email').inputValue()).toBe(EMAIL)
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL(
      (url) => url.pathname === '/admin' && url.searchParams.get('notice') === 'connected',
    )
    expect(await page.getByText('must be reauthorized before').count()).toBe(0)
    const after = await deadlineShown()
    expect(after).not.toBe(before)
    expect(after).toBe(new Date(reconsentAt + 7 * day).toISOString())
  })
})
