import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Asks once whether PostgreSQL answers at TEST_DATABASE_URL (its suites skip, or fail with REQUIRE_POSTGRES=1).
    globalSetup: ['test/support/postgres-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
