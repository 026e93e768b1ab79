/**
 * The typical message (`typicalMessage` of `support.ts`), composed once by
 * this project's composer: what a direct caller of Gmail has ready before
 * its timing starts.
 */
import { toMail } from '../src/domain/mail/to-mail.ts'
import { composeMessage } from '../src/domain/mime/compose.ts'
import { typicalMessage } from './support.ts'

export function readyMessage(account: string): Uint8Array {
  return composeMessage(toMail(typicalMessage(account)), {
    date: new Date(),
    messageId: '<direct.1@example.com>',
    boundary: () => `=_direct${Math.random().toString(36).slice(2)}`,
  })
}
