import fc from 'fast-check'
import { it } from 'vitest'
import { toMail } from '../../../src/domain/mail/to-mail.ts'
import { mailInputForScratch } from './compose.property.test.ts'

it('stats', () => {
  const counts = new Map<string, number>()
  let ok = 0
  for (const input of fc.sample(mailInputForScratch, 1000)) {
    try {
      toMail(input, { defaultFrom: { address: 'd@example.com' } })
      ok++
    } catch (e: any) {
      for (const i of e.issues) {
        const k =
          i.path.replace(/\.\d+/g, '.N').replace(/^headers\..*/, 'headers') + ' ' + i.message.slice(0, 40)
        counts.set(k, (counts.get(k) ?? 0) + 1)
      }
    }
  }
  console.log('ok', ok, [...counts].sort((a, b) => b[1] - a[1]).slice(0, 25))
})
