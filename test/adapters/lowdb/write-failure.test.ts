import { describe, expect, it } from 'vitest'
import { writeFailure } from '../../../src/adapters/lowdb/fs-durable.ts'

const osError = (code: string) =>
  Object.assign(new Error(`${code}: failed, write '/data/outbox.json'`), { code })

describe('a failed write of the store', () => {
  it('is STORAGE_FULL, with a wait and no path, when the disk or the quota is full', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      const error = writeFailure('The store file outbox.json could not be written', osError(code))
      expect(error).toMatchObject({
        code: 'STORAGE_FULL',
        message: "The service's storage is full; nothing was stored; retry later",
        retryable: true,
        retryAfterMs: expect.any(Number),
      })
    }
  })

  it('stays STORAGE, saying which file, for any other cause', () => {
    expect(writeFailure('The store file outbox.json could not be written', osError('EIO'))).toMatchObject({
      code: 'STORAGE',
      message: 'The store file outbox.json could not be written',
      retryable: true,
    })
  })
})
