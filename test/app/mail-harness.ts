/**
 * The mail use cases on fakes: one connected default account, the
 * single-process delivery engine and `createMailService` on a manual
 * clock, `mail.send` answering at once (`sendWaitMs` 0); `deliver` lets the
 * engine make its attempts.
 */
import { createAccountService } from '../../src/app/accounts.ts'
import { createDeliveryEngine } from '../../src/app/delivery/engine.ts'
import { silentLogger } from '../../src/app/logger.ts'
import { createMailService, type MailServiceDeps } from '../../src/app/mail-service.ts'
import type { LargeBodyStore } from '../../src/domain/upload-ports.ts'
import { type ManualTime, manualTime } from '../fakes/clock.ts'
import { fakeGmail } from '../fakes/gmail.ts'
import { fakeOAuth } from '../fakes/oauth.ts'
import { memoryAccounts, memoryOutbox } from '../fakes/repositories.ts'

export const HARNESS_ACCOUNT = 'support@example.com'

export function mailHarness(
  options: {
    /** The clock, when the test's other fakes share it. */
    time?: ManualTime
    largeBodies?: LargeBodyStore
    service?: Partial<Pick<MailServiceDeps, 'uploads' | 'reclaimMemory' | 'newId' | 'newBoundary'>>
  } = {},
) {
  const time = options.time ?? manualTime()
  const outbox = memoryOutbox(time)
  const gmail = fakeGmail()
  const accounts = createAccountService({
    accounts: memoryAccounts([
      {
        email: HARNESS_ACCOUNT,
        status: 'connected',
        scopes: ['https://www.googleapis.com/auth/gmail.send'],
        isDefault: true,
        connectedAt: time.now(),
        refreshToken: 'rt',
      },
    ]),
    oauth: fakeOAuth(),
    clock: time,
    logger: silentLogger,
    listener: { connected() {}, reauthorizationRequired() {}, disconnected() {} },
  })
  const delivery = createDeliveryEngine({
    outbox,
    gmail,
    clock: time,
    scheduler: time,
    random: () => 0.5,
    logger: silentLogger,
    limits: { perMinute: 0, perDay: 0 },
    concurrency: 4,
    giveUpAfterMs: 86_400_000,
    onReauthorizationRequired: () => {},
    ...(options.largeBodies === undefined ? {} : { largeBodies: options.largeBodies }),
  })
  let ids = 0
  let boundaries = 0
  const mail = createMailService({
    outbox,
    delivery,
    accounts,
    clock: time,
    newId: () => `msg${String(++ids).padStart(4, '0')}`,
    newBoundary: () => `=_b${++boundaries}`,
    sendWaitMs: 0,
    ...options.service,
  })
  return { time, outbox, gmail, mail, deliver: () => time.advance(0) }
}
