/**
 * What the person who started the service is told. In sandbox mode, and only
 * there, the generated admin token and API key are printed (to the terminal,
 * never to the structured log).
 */

import { ConfigError } from '../app/config.ts'
import type { Service } from './composition.ts'

export function printStartBanner(service: Service, port: number, print: (line: string) => void): void {
  const { config, sandbox } = service
  service.logger.info('Listening', {
    port,
    host: config.host,
    publicUrl: config.publicUrl,
    sandbox: sandbox !== undefined,
  })
  if (!sandbox) return
  print('')
  print('  Sandbox mode: Google is emulated on this machine; nothing leaves it.')
  print(`  Admin console:  ${config.publicUrl}/admin`)
  print(`  Admin token:    ${sandbox.generated.adminToken ?? '(ADMIN_TOKEN from the environment)'}`)
  print(`  API key:        ${sandbox.generated.apiKey ?? '(API_KEYS from the environment)'}`)
  print(`  tRPC endpoint:  ${config.publicUrl}/trpc`)
  print('')
}

/** The one line printed when the start fails: the variable at fault, never a secret or a stack. */
export function startFailureLine(error: unknown): string {
  if (error instanceof ConfigError) return `Configuration error: ${error.message}`
  return `Start failed: ${error instanceof Error ? error.message : String(error)}`
}
