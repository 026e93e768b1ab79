/**
 * Vitest global setup: asks once per run whether PostgreSQL answers at
 * TEST_DATABASE_URL and hands the answer to every test file
 * (`inject('postgres')`, read by `postgres.ts`). Without a server it prints
 * one line and the PostgreSQL suites skip; with REQUIRE_POSTGRES=1 it fails
 * the run instead.
 */
import type { TestProject } from 'vitest/node'
import { probePostgres, requiredLine, skipLine } from './postgres-probe.ts'

export default async function setup(project: TestProject): Promise<void> {
  const probe = await probePostgres()
  if (!probe.available) {
    if (probe.required) throw new Error(requiredLine(probe))
    console.log(skipLine(probe))
  }
  project.provide('postgres', probe)
}
