/**
 * The console's team pages in a real browser, against the real server in
 * sandbox mode: API keys (made with a scope, shown once, revoked), and
 * webhook endpoints (added with the secret shown once, their deliveries,
 * a replay under the same `webhook-id`).
 */
import { fileURLToPath } from 'node:url'
import { createTRPCClient, httpLink } from '@trpc/client'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startReceiver } from '../../bench/webhook-receiver.ts'
import type { AppRouter } from '../../src/adapters/http/trpc/router.ts'
import { settled } from '../adapters/http/admin-fixture.ts'
import { type RunningService, startConnectedService } from '../support/service.ts'
import { documentScreenshot, launchChromium, SKIP_BROWSER_TESTS } from './chromium.ts'

/** A client holding one key, sending `Origin` as a page on that origin would. */
function keyClient(url: string, apiKey: string, origin?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/trpc`,
        headers: () => ({ Authorization: `Bearer ${apiKey}`, ...(origin ? { Origin: origin } : {}) }),
      }),
    ],
  })
}

const screenshot = (name: string) => fileURLToPath(new URL(`../../docs/screenshots/${name}`, import.meta.url))

describe.skipIf(SKIP_BROWSER_TESTS)('the console for a team: keys and webhooks (sandbox mode)', () => {
  let running: RunningService
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  let madeKey = ''
  const at = (path: string) => `${running.url}${path}`

  beforeAll(async () => {
    browser = await launchChromium()
    receiver = await startReceiver()
    running = await startConnectedService({ GMAIL_SENDS_PER_MINUTE: '0', WEBHOOK_RETRY_BASE_MS: '200' })
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    context.setDefaultTimeout(10_000)
    page = await context.newPage()
    await page.goto(at('/admin'))
    await page.getByLabel('Admin token').fill(running.adminToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(at('/admin'))
  })
  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await running?.stop()
    await receiver?.close()
  })

  it('makes a contact-form key with a scope, shows it once, and the key is held to that scope', async () => {
    await page.getByRole('link', { name: 'API keys' }).click()
    await page.waitForURL(at('/admin/keys'))
    await page.getByLabel('Name').fill('Contact form')
    await page.getByRole('checkbox', { name: 'mail.send', exact: true }).check()
    await page.getByLabel(/^Sending accounts/).fill('support@example.com')
    await page.getByLabel(/^Recipients/).fill('support@example.com')
    await page.getByLabel(/^Browser origins/).fill('https://shop.example')
    await page.getByLabel(/^Requests a minute/).fill('30')
    await page.getByRole('button', { name: 'Make the key' }).click()
    expect(await page.getByRole('status').textContent()).toContain('shown only this once')
    madeKey = ((await page.locator('pre#secret').textContent()) ?? '').trim()
    expect(madeKey.length).toBeGreaterThan(20)

    const form = keyClient(running.url, madeKey, 'https://shop.example')
    const accepted = await form.mail.send.mutate({
      to: 'support@example.com',
      subject: 'Hello from the form',
      text: 'Hi',
    })
    expect(accepted.from).toContain('support@example.com')
    await expect(form.mail.list.query()).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } })

    await page.getByRole('link', { name: 'Done' }).click()
    await page.waitForURL(at('/admin/keys'))
    const row = page.locator('table.keys tr', { hasText: 'Contact form' })
    expect(await row.textContent()).toContain('only to support@example.com')
    expect(await row.textContent()).toContain('30 requests a minute')
    expect(await page.content()).not.toContain(madeKey)
    await documentScreenshot(page, screenshot('keys.png'))
  })

  it('revokes the key from the page, after which it is refused', async () => {
    const row = page.locator('table.keys tr', { hasText: 'Contact form' })
    await row.getByRole('button', { name: /Revoke/ }).click()
    await page.waitForURL((url) => url.searchParams.get('notice') === 'key-revoked')
    expect(await page.getByRole('status').textContent()).toContain('The key was revoked')
    expect(await page.locator('table.keys tr', { hasText: 'Contact form' }).textContent()).toContain(
      'revoked',
    )
    const form = keyClient(running.url, madeKey, 'https://shop.example')
    await expect(
      form.mail.send.mutate({ to: 'support@example.com', subject: 'After revocation', text: 'Hi' }),
    ).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } })
  })

  it('adds a webhook endpoint, shows its secret once, lists its deliveries and replays one', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click()
    await page.waitForURL(at('/admin/webhooks'))
    await page.getByLabel('URL').fill(receiver.url)
    await page.getByRole('checkbox', { name: 'mail.sent', exact: true }).check()
    await page.getByRole('button', { name: 'Add the endpoint' }).click()
    const secret = ((await page.locator('pre#secret').textContent()) ?? '').trim()
    expect(secret).toMatch(/^whsec_/)
    await page.getByRole('link', { name: 'Done' }).click()

    const sent = await running.client.mail.send.mutate({
      to: 'jane@example.com',
      subject: 'Order shipped',
      text: 'x',
    })
    await settled(running, sent.id, 'sent')
    await expect.poll(() => receiver.ids.size, { timeout: 10_000 }).toBe(1)
    const [eventId] = [...receiver.ids]

    await page.reload()
    const endpointRow = page.locator('table.webhooks tr', { hasText: receiver.url })
    await expect.poll(() => endpointRow.textContent()).toContain('HTTP 204')
    expect(await page.content()).not.toContain(secret)
    await documentScreenshot(page, screenshot('webhooks.png'))

    await endpointRow.getByRole('link', { name: /Deliveries/ }).click()
    const attempt = page.locator('table.attempts tbody tr').first()
    expect(await attempt.textContent()).toContain('mail.sent')
    expect(await attempt.textContent()).toContain(eventId!)
    await attempt.getByRole('button', { name: /Replay/ }).click()
    await page.waitForURL((url) => url.searchParams.get('notice') === 'webhook-replayed')
    await expect
      .poll(async () => page.locator('table.attempts tbody tr').count(), { timeout: 10_000 })
      .toBeGreaterThan(0)
    // The replay arrives under the event's own id: the receiver still knows one id, and got it twice.
    await expect
      .poll(
        async () => {
          await page.reload()
          return page.locator('table.attempts tbody tr').count()
        },
        { timeout: 10_000 },
      )
      .toBe(2)
    expect(receiver.ids.size).toBe(1)
    await documentScreenshot(page, screenshot('webhook-deliveries.png'))
  })
})
