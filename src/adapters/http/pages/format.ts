/** Small display helpers shared by the console's pages. */
import { html } from 'hono/html'
import type { Markup } from './layout.ts'

function iso(value: number | string): string | undefined {
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** A time as `2026-05-04 13:04 UTC` in a `<time>` element (seconds in its title); empty when absent. */
export function when(value: number | string | undefined): Markup | string {
  if (value === undefined) return ''
  const text = iso(value)
  if (text === undefined) return ''
  return html`<time datetime="${text}" title="${text.slice(0, 19).replace('T', ' ')} UTC">${text.slice(0, 16).replace('T', ' ')} UTC</time>`
}

/** Bytes in B, KB or MB (1024-based, as mail clients show sizes). */
export function bytes(size: number): string {
  if (size < 1024) return `${size} B`
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`
  return `${(size / 1024 / 1024).toFixed(1)} MB`
}

/** `reauthorization_required` → `reauthorization required`. */
export function label(status: string): string {
  return status.replaceAll('_', ' ')
}

/** A status as a coloured pill; the class is picked from a closed list of statuses. */
export function statusPill(status: string): Markup {
  return html`<span class="status status-${status}">${label(status)}</span>`
}

/** The short name of a Google scope (`https://www.googleapis.com/auth/gmail.send` → `gmail.send`). */
export function scopeName(scope: string): string {
  return scope.replace(/^https:\/\/www\.googleapis\.com\/auth\//, '')
}

/** `1 message`, `2 messages`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
