/**
 * The admin console and the sandbox mailbox in a real browser, against the
 * real server in sandbox mode. The pages carry no script (their CSP says
 * `script-src 'none'`), so passing here means they work without JavaScript;
 * JavaScript stays on so that the mail's own script would run if the
 * sandboxed frame let it.
 */
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { settled } from '../adapters/http/admin-fixture.ts'
import { connectAccount } from '../support/connect.ts'
import { type RunningService, startService } from '../support/service.ts'
import { documentScreenshot, launchChromium, SKIP_BROWSER_TESTS, tabTo } from './chromium.ts'

const screenshot = (name: string) => fileURLToPath(new URL(`../../docs/screenshots/${name}`, import.meta.url))

const WELCOME_HTML =
  '<h1 style="color:#0b57d0;font-family:sans-serif">Welcome, Jane</h1>' +
  '<p style="font-family:sans-serif">Your account is <b>ready</b>.</p>' +
  '<script>document.body.innerHTML = "script ran"</script>'

describe.skipIf(SKIP_BROWSER_TESTS)('admin console in a browser (sandbox mode)', () => {
  let running: RunningService
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let heldId: string
  const at = (path: string) => `${running.url}${path}`
  const row = (subject: string) =>
    page.locator('tr', { has: page.getByRole('link', { name: subject, exact: true }) })

  beforeAll(async () => {
    browser = await launchChromium()
    running = await startService({ GMAIL_SENDS_PER_MINUTE: '0' })
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    context.setDefaultTimeout(10_000)
    page = await context.newPage()
  })
  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await running?.stop()
  })

  it('does not let a wrong admin token sign in', async () => {
    await page.goto(at('/admin'))
    expect(new URL(page.url()).pathname).toBe('/admin/login')
    await page.getByLabel('Admin token').fill('not-the-admin-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That admin token is not right.')
    expect((await context.cookies()).some((cookie) => cookie.name === 'admin_session')).toBe(false)
    await page.goto(at('/admin'))
    expect(new URL(page.url()).pathname).toBe('/admin/login')
  })

  it('signs in through the form, from the keyboard', async () => {
    await page.getByLabel('Admin token').fill(running.adminToken)
    await page.keyboard.press('Enter')
    await page.waitForURL(at('/admin'))
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Console')
    expect(await page.getByRole('note').first().textContent()).toContain('nothing leaves the machine')
  })

  it('connects an account through the emulated consent page', async () => {
    await page.getByRole('link', { name: 'Connect an account' }).click()
    await page.getByLabel('Email').fill('support@example.com')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL(
      (url) => url.pathname === '/admin' && url.searchParams.get('notice') === 'connected',
    )
    expect(await page.getByRole('status').textContent()).toContain('Connected support@example.com.')
    const account = page.locator('table.accounts tr', { hasText: 'support@example.com' })
    expect(await account.textContent()).toContain('default')
    expect(await account.locator('.status').textContent()).toBe('connected')
  })

  it('shows a message sent through the API as sent, and in the sandbox mailbox with its HTML and source', async () => {
    // A second account, connected without the browser, for the actions below.
    await connectAccount({
      url: running.url,
      adminToken: running.adminToken,
      control: running.service.sandbox!.control,
      email: 'sales@example.com',
    })
    const accepted = await running.client.mail.send.mutate({
      to: 'Jane Doe <jane@example.com>',
      subject: 'Welcome aboard',
      text: 'Hello Jane, your account is ready.',
      html: WELCOME_HTML,
    })
    const welcome = await settled(running, accepted.id, 'sent')
    for (const [to, subject] of [
      ['carl@example.net', 'Invoice #1042'],
      ['dana@example.org', 'Your weekly report'],
    ] as const) {
      const other = await running.client.mail.send.mutate({
        to,
        subject,
        text: `Hello, here is "${subject}".`,
      })
      await settled(running, other.id, 'sent')
    }

    await page.goto(at('/admin'))
    expect(await row('Welcome aboard').locator('.status').textContent()).toBe('sent')
    expect(await row('Welcome aboard').textContent()).toContain(welcome.gmailMessageId!)

    await page.getByRole('link', { name: 'Sandbox mailbox' }).click()
    await page.waitForURL(at('/admin/sandbox/mailbox'))
    expect(await page.locator('tbody tr').count()).toBe(3)
    await documentScreenshot(page, screenshot('mailbox.png'))

    await page.getByRole('link', { name: 'Welcome aboard' }).click()
    const frame = page.frameLocator('iframe[title="HTML body of the message"]')
    expect(await frame.getByRole('heading', { name: 'Welcome, Jane' }).textContent()).toBe('Welcome, Jane')
    expect(await frame.getByText('script ran', { exact: true }).count()).toBe(0)
    expect(await page.locator('iframe').getAttribute('sandbox')).toBe('')
    const source = await page.locator('section', { hasText: 'Raw source' }).locator('pre').textContent()
    expect(source).toContain('Subject: Welcome aboard')
    expect(source).toContain('To: Jane Doe <jane@example.com>')
  })

  it('holds the next message after the token is revoked on the faults page, and says so', async () => {
    await page.getByRole('link', { name: 'Faults' }).click()
    await page.getByLabel('Account', { exact: true }).selectOption('support@example.com')
    await page.getByRole('button', { name: 'Revoke token' }).click()
    expect(await page.getByRole('status').textContent()).toContain(
      'Every token of support@example.com was revoked',
    )

    const held = await running.client.mail.send.mutate({
      to: 'erin@example.com',
      subject: 'Quarterly numbers',
      text: 'Attached.',
    })
    heldId = held.id
    await settled(running, heldId, 'held')

    await page.getByRole('link', { name: 'Console' }).click()
    const banner = page.getByRole('alert')
    expect(await banner.textContent()).toContain('support@example.com needs reauthorization')
    expect(await banner.textContent()).toContain('1 message is held for it')
    expect(await row('Quarterly numbers').locator('.status').textContent()).toBe('held')
    await documentScreenshot(page, screenshot('console.png'))
  })

  it('sends the held message once the account is reauthorized with the button', async () => {
    await page.getByRole('alert').getByRole('link', { name: 'Reauthorize' }).click()
    expect(await page.getByLabel('Email').inputValue()).toBe('support@example.com')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.waitForURL(
      (url) => url.pathname === '/admin' && url.searchParams.get('notice') === 'connected',
    )
    expect(await page.getByRole('status').textContent()).toContain('1 held message was released for sending.')
    await settled(running, heldId, 'sent')
    await page.reload()
    expect(await row('Quarterly numbers').locator('.status').textContent()).toBe('sent')
    expect(await page.getByRole('alert').count()).toBe(0)
  })

  it('runs every action from the keyboard: make default, retry, cancel, disconnect', async () => {
    const control = running.service.sandbox!.control
    control.injectFaults('send', [{ kind: 'status', status: 400 }])
    const failed = await running.client.mail.send.mutate({
      to: 'f@example.com',
      subject: 'Rejected once',
      text: 'x',
    })
    await settled(running, failed.id, 'failed')
    const later = await running.client.mail.send.mutate({
      to: 'g@example.com',
      subject: 'Next week',
      text: 'x',
      sendAt: new Date(Date.now() + 86_400_000).toISOString(),
    })
    expect(later.status).toBe('scheduled')

    await page.goto(at('/admin'))
    await tabTo(page, 'Make default')
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.searchParams.get('notice') === 'made-default')
    expect(await page.getByRole('status').textContent()).toContain(
      'sales@example.com is now the default account.',
    )
    expect(await page.locator('table.accounts tr', { hasText: 'sales@example.com' }).textContent()).toContain(
      'default',
    )

    await tabTo(page, 'Retry')
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.searchParams.get('notice') === 'retried')
    await settled(running, failed.id, 'sent')

    await tabTo(page, 'Cancel')
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.searchParams.get('notice') === 'canceled')
    expect(await row('Next week').locator('.status').textContent()).toBe('canceled')

    await tabTo(page, 'Disconnect')
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.pathname === '/admin/accounts/disconnect')
    await tabTo(page, 'Disconnect')
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.searchParams.get('notice') === 'disconnected')
    const disconnected = (await page.getByRole('status').textContent()) ?? ''
    expect(disconnected).toMatch(/^\S+@example\.com was disconnected/)
    const email = disconnected.split(' ')[0]!
    expect(await page.locator('table.accounts tr', { hasText: email }).locator('.status').textContent()).toBe(
      'revoked',
    )
  })

  it('signs out, after which the console asks to sign in again', async () => {
    await tabTo(page, 'Sign out')
    await page.keyboard.press('Enter')
    await page.waitForURL((url) => url.pathname === '/admin/login')
    await page.goto(at('/admin'))
    expect(new URL(page.url()).pathname).toBe('/admin/login')
  })
})
