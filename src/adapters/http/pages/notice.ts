/**
 * Flash-style notices after an action: the action redirects (303) with a
 * notice code and a subject in the query string, and the page shows a fixed
 * sentence for that code. Only known codes are shown, so a crafted link
 * cannot make the console say something of its own.
 */
import { html } from 'hono/html'
import type { Markup } from './layout.ts'

type Tone = 'success' | 'error' | 'info'

const NOTICES = {
  'made-default': { tone: 'success', text: (s: string) => `${s} is now the default account.` },
  'default-refused': { tone: 'error', text: () => 'A disconnected account cannot be the default.' },
  disconnected: {
    tone: 'success',
    text: (s: string) => `${s} was disconnected and its token revoked at Google. Its history stays.`,
  },
  retried: { tone: 'success', text: () => 'The message was put back in the queue.' },
  'retry-refused': { tone: 'error', text: () => 'Only a failed message can be retried.' },
  canceled: { tone: 'success', text: () => 'The message was canceled.' },
  'cancel-refused': {
    tone: 'error',
    text: () => 'Only a queued, scheduled or held message can be canceled; this one has moved on.',
  },
  'not-found': { tone: 'error', text: () => 'That account or message does not exist.' },
  'mailbox-emptied': { tone: 'success', text: () => 'The sandbox mailbox was emptied.' },
  'token-revoked': {
    tone: 'success',
    text: (s: string) =>
      `Every token of ${s} was revoked at the emulated Google: its next send needs reauthorization.`,
  },
  'faults-injected': { tone: 'success', text: (s: string) => `Queued: ${s}.` },
  'fault-rate-set': { tone: 'success', text: (s: string) => `Random faults on: ${s}.` },
  'fault-rate-cleared': { tone: 'success', text: () => 'Random faults are off.' },
  'quota-set': { tone: 'success', text: (s: string) => `The per-user quota is now ${s} sends a minute.` },
  'quota-cleared': { tone: 'success', text: () => 'The per-user quota is off.' },
  invalid: { tone: 'error', text: () => 'A value in the form was not valid; nothing was changed.' },
} satisfies Record<string, { tone: Tone; text: (subject: string) => string }>

export type NoticeCode = keyof typeof NOTICES

/** The query string that carries a notice to the page a redirect goes to. */
export function noticeQuery(code: NoticeCode, subject?: string): string {
  const params = new URLSearchParams({ notice: code })
  if (subject !== undefined) params.set('subject', subject)
  return params.toString()
}

/** The notice of a page's query, if it carries a known one (including /oauth/callback's `connected`). */
export function noticeFrom(query: Record<string, string | undefined>): Markup | string {
  if (query['connected']) {
    const released = Number(query['released'] ?? 0)
    const extra =
      Number.isInteger(released) && released > 0
        ? ` ${released} held message${released === 1 ? ' was' : 's were'} released for sending.`
        : ''
    return banner('success', `Connected ${query['connected']}.${extra}`)
  }
  const code = query['notice']
  if (code === undefined || !Object.hasOwn(NOTICES, code)) return ''
  const notice = NOTICES[code as NoticeCode]
  return banner(notice.tone, notice.text((query['subject'] ?? '').slice(0, 200)))
}

function banner(tone: Tone, text: string): Markup {
  return html`<div class="banner ${tone}" role="${tone === 'error' ? 'alert' : 'status'}"><p>${text}</p></div>`
}
