import { describe, expect, it } from 'vitest'
import { readConfig } from '../../src/app/config.ts'

describe('GOOGLE_APP_TESTING', () => {
  it('is off unless set to true', () => {
    expect(readConfig({}).googleAppTesting).toBe(false)
    expect(readConfig({ GOOGLE_APP_TESTING: 'false' }).googleAppTesting).toBe(false)
    expect(readConfig({ GOOGLE_APP_TESTING: 'true' }).googleAppTesting).toBe(true)
  })

  it('refuses anything but true or false, naming the variable', () => {
    for (const value of ['yes', '1', 'TRUE']) {
      expect(() => readConfig({ GOOGLE_APP_TESTING: value })).toThrow(
        'GOOGLE_APP_TESTING is invalid: must be true or false',
      )
    }
  })
})
