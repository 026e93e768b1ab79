/**
 * Flash-style notices after an action: the action redirects (303) with a
 * notice code (and, for an account, the account it acted on) in the query
 * string, and the page shows a fixed sentence for that code. Only known
 * codes are shown, and a name only when it is one the page knows from stored
 * state (an account in the accounts store, in the state the action left it
 * in): a crafted link cannot make the console say anything of its own.
 */
import { html } from 'hono/html'
import type { Markup } from './layout.ts'

type Tone = 'success' | 'error' | 'info'

/** What a page knows of the accounts, from the accounts store. */
export interface NoticeAccount {
  email: string
  status?: string
  isDefault?: boolean
}

interface Notice {
  tone: Tone
  /** The sentence; `account` is the stored account the notice names, when the page knows it. */
  text: (account: string | undefined, extra: { released: number }) => string
  /** Which stored account the notice may name: one in the state this action leaves it in. */
  names?: (account: NoticeAccount) => boolean
}

const released = (count: number): string =>
  count > 0 ? ` ${count} held message${count === 1 ? ' was' : 's were'} released for sending.` : ''

const NOTICES = {
  connected: {
    tone: 'success',
    text: (s, extra) =>
      `${s === undefined ? 'The account was connected' : `Connected ${s}`}.${released(extra.released)}`,
    names: (account) => account.status === 'connected',
  },
  'made-default': {
    tone: 'success',
    text: (s) => `${s ?? 'The account'} is now the default account.`,
    names: (account) => account.isDefault === true,
  },
  'default-refused': { tone: 'error', text: () => 'A disconnected account cannot be the default.' },
  disconnected: {
    tone: 'success',
    text: (s) => `${s ?? 'The account'} was disconnected and its token revoked at Google. Its history stays.`,
    names: (account) => account.status === 'revoked',
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
    text: (s) =>
      `Every token of ${s ?? 'the account'} was revoked at the emulated Google: its next send needs reauthorization.`,
    names: () => true,
  },
  'faults-injected': {
    tone: 'success',
    text: () => 'The faults were queued: the next requests to that endpoint fail, one each, in order.',
  },
  'fault-rate-set': { tone: 'success', text: () => 'Random faults are on; the rates are shown below.' },
  'fault-rate-cleared': { tone: 'success', text: () => 'Random faults are off.' },
  'quota-set': { tone: 'success', text: () => 'The per-user quota was set; it is shown below.' },
  'quota-cleared': { tone: 'success', text: () => 'The per-user quota is off.' },
  invalid: { tone: 'error', text: () => 'A value in the form was not valid; nothing was changed.' },
  'key-revoked': {
    tone: 'success',
    text: () => 'The key was revoked: every replica refuses it from now on.',
  },
  'key-revoke-refused': {
    tone: 'error',
    text: () => 'A key set in API_KEYS cannot be revoked here; remove it from API_KEYS and restart.',
  },
  'webhook-deleted': { tone: 'success', text: () => 'The endpoint was deleted; nothing more is sent to it.' },
  'webhook-replayed': {
    tone: 'success',
    text: () => 'The event was queued for delivery again, under its own id.',
  },
} satisfies Record<string, Notice>

export type NoticeCode = keyof typeof NOTICES

/**
 * The query string that carries a notice to the page a redirect goes to:
 * the code, the account acted on (a key to look up, never shown as given)
 * and, after a connection, how many held messages were released.
 */
export function noticeQuery(code: NoticeCode, options: { account?: string; released?: number } = {}): string {
  const params = new URLSearchParams({ notice: code })
  if (options.account !== undefined) params.set('subject', options.account)
  if (options.released !== undefined && options.released > 0) params.set('released', String(options.released))
  return params.toString()
}

/**
 * The notice of a page's query, if it carries a known code. A name is shown
 * only when `accounts` (the page's stored accounts) holds the account the
 * query refers to, and then as stored; the released count only as a plain
 * number.
 */
export function noticeFrom(
  query: Record<string, string | undefined>,
  accounts: ReadonlyArray<NoticeAccount> = [],
): Markup | string {
  const code = query['notice']
  if (code === undefined || !Object.hasOwn(NOTICES, code)) return ''
  const notice: Notice = NOTICES[code as NoticeCode]
  const wanted = (query['subject'] ?? '').trim().toLowerCase()
  const names = notice.names
  const account =
    names === undefined || wanted === ''
      ? undefined
      : accounts.find((known) => known.email.toLowerCase() === wanted && names(known))?.email
  const count = /^\d{1,6}$/.test(query['released'] ?? '') ? Number(query['released']) : 0
  return banner(notice.tone, notice.text(account, { released: count }))
}

function banner(tone: Tone, text: string): Markup {
  return html`<div class="banner ${tone}" role="${tone === 'error' ? 'alert' : 'status'}"><p>${text}</p></div>`
}
