/**
 * `GET|POST /o/oauth2/v2/auth`: the consent screen and its answer. The form
 * posts to the same path through a relative action, so the emulator works
 * under any mount prefix.
 */
import type { Context, Hono } from 'hono'
import { normalizeEmail, readAuthorizationRequest } from './authorization-request.ts'
import { allowConsent, denyConsent } from './consent-decision.ts'
import { consentPageHeaders, errorPageHeaders, renderConsentPage, renderErrorPage } from './consent-page.ts'
import type { EmulatorContext } from './context.ts'
import { type EndpointSpec, faultable } from './endpoint.ts'
import { ACCESS_CHOICES } from './refresh-lifetime.ts'
import type { ConsentChoice } from './types.ts'

export const AUTHORIZATION_PATH = '/o/oauth2/v2/auth'

export function mountAuthorizationEndpoint(app: Hono, context: EmulatorContext): void {
  const spec: EndpointSpec = {
    endpoint: 'auth',
    renderFault: async (fault) =>
      new Response(await renderErrorPage(`HTTP ${fault.status}`, 'The sandbox played an injected failure.'), {
        status: fault.status,
        headers: { 'content-type': 'text/html; charset=UTF-8', ...errorPageHeaders },
      }),
  }
  app.get(
    AUTHORIZATION_PATH,
    faultable(context, spec, async (c) => showConsent(c, context, new URL(c.req.url).searchParams)),
  )
  app.post(
    AUTHORIZATION_PATH,
    faultable(context, spec, async (c) => {
      const form = new URLSearchParams(await c.req.text())
      return answerConsent(c, context, form)
    }),
  )
}

async function showConsent(c: Context, context: EmulatorContext, params: URLSearchParams): Promise<Response> {
  const check = readAuthorizationRequest(params, context.clients)
  if (!check.ok) return c.html(await renderErrorPage(check.error, check.description), 400, errorPageHeaders)
  return c.html(
    await renderConsentPage(check.request, {}),
    200,
    consentPageHeaders(check.request.redirectUri),
  )
}

async function answerConsent(c: Context, context: EmulatorContext, form: URLSearchParams): Promise<Response> {
  const check = readAuthorizationRequest(form, context.clients)
  if (!check.ok) return c.html(await renderErrorPage(check.error, check.description), 400, errorPageHeaders)
  const { request } = check
  const decision = form.get('decision')
  if (decision === 'deny') return redirect(denyConsent(request))
  const typed = form.get('email') ?? ''
  const email = normalizeEmail(typed)
  if (decision !== 'allow' || email === undefined) {
    const problem = decision !== 'allow' ? 'Choose Allow or Deny.' : 'Enter a valid email address.'
    const page = await renderConsentPage(request, { email: typed, problem })
    return c.html(page, 400, consentPageHeaders(request.redirectUri))
  }
  const choice = consentChoice(form.get('access_duration'))
  if (choice === undefined) {
    const page = await renderConsentPage(request, {
      email: typed,
      problem: 'Choose how long the access lasts.',
    })
    return c.html(page, 400, consentPageHeaders(request.redirectUri))
  }
  return redirect(allowConsent(context, request, email, choice))
}

/** The page's "Access" answer: until removed (empty or absent), or one of its time-based choices. */
function consentChoice(value: string | null): ConsentChoice | undefined {
  if (value === null || value === '') return {}
  const seconds = ACCESS_CHOICES.find((choice) => String(choice.seconds) === value)?.seconds
  return seconds === undefined ? undefined : { accessSeconds: seconds }
}

function redirect(location: string): Response {
  return new Response(null, {
    status: 302,
    headers: { location, 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' },
  })
}
