/**
 * `npm run bench`: every benchmark, one after the other, each printing its
 * ratio against a baseline measured side by side and its target.
 *
 *   npm run bench                 quick mode (the default; what CI runs)
 *   npm run bench -- --quick      the same
 *   npm run bench:full            full mode: longer runs, more rounds; rewrites docs/benchmarks.md
 *   npm run bench:soak            not part of these: 10 minutes at 20 sends a second, memory (bench/soak.ts)
 *   npm run bench -- --only=compose,ceiling   a subset (names below)
 *   npm run bench -- --write      a quick run that rewrites docs/benchmarks.md too
 *
 * Exits non-zero when a correctness check inside a benchmark fails (or a
 * benchmark cannot run): never because of a timing. A missed target is
 * printed as "target missed".
 */
import { execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { benchCompose } from './compose.ts'
import { benchFleet } from './fleet.ts'
import { benchFootprint } from './footprint.ts'
import { benchGmailCeiling } from './gmail-ceiling.ts'
import { benchGmailFetch } from './gmail-fetch.ts'
import type { BenchResult } from './lib.ts'
import { benchLowdbFlushes } from './lowdb-flushes.ts'
import { benchOutboxGrowth } from './outbox-growth.ts'
import { benchPgCommits } from './pg-commits.ts'
import { benchReaders } from './readers.ts'
import { benchResume } from './resume.ts'
import { benchSendPath } from './send-path.ts'
import { benchServiceCost } from './service-cost.ts'
import { benchTokenRefresh } from './token-refresh.ts'
import { benchWebhooks } from './webhooks.ts'

type Bench = (options: { quick: boolean }) => Promise<BenchResult | BenchResult[]>

const BENCHES: Array<{ name: string; title: string; run: Bench }> = [
  { name: 'compose', title: 'MIME composition vs nodemailer', run: benchCompose },
  {
    name: 'readers',
    title: 'What three mail readers decode: this project vs MailComposer',
    run: benchReaders,
  },
  { name: 'service', title: 'Cost of the service vs calling Gmail directly', run: benchServiceCost },
  {
    name: 'send-path',
    title: 'The send path as deployed: Node and Deno, lowdb and PostgreSQL, a fast Gmail and a 100 ms one',
    run: benchSendPath,
  },
  {
    name: 'gmail-fetch',
    title: "The Gmail client's fetch: the runtime's own against gaxios's node-fetch",
    run: benchGmailFetch,
  },
  {
    name: 'ceiling',
    title: "Gmail's ceiling: paced delivery under the per-user quota",
    run: benchGmailCeiling,
  },
  {
    name: 'store',
    title: 'The lowdb outbox: flushes per delivered message, the journal against the previous layout',
    run: benchLowdbFlushes,
  },
  { name: 'growth', title: 'Growth: 100k messages of history', run: benchOutboxGrowth },
  { name: 'resume', title: 'Growth: start and resume with 10k pending messages', run: benchResume },
  { name: 'refresh', title: 'Token refresh under load', run: benchTokenRefresh },
  {
    name: 'fleet',
    title: 'Several replicas on PostgreSQL: acceptance, paced delivery, dispatch, round trips',
    run: benchFleet,
  },
  {
    name: 'pg-commits',
    title: 'PostgreSQL: commits, WAL flushes and round trips per delivered message, synchronous_commit',
    run: benchPgCommits,
  },
  {
    name: 'webhooks',
    title: 'Webhooks: the cost of one subscribed endpoint per send, and the dispatcher against a plain loop',
    run: benchWebhooks,
  },
  { name: 'footprint', title: 'Footprint on Node and Deno', run: benchFootprint },
]

const REPORT = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))
/** Hand-written analysis appended to the report: where the time and memory go. */
const NOTES = fileURLToPath(new URL('./notes.md', import.meta.url))

interface Section {
  name: string
  title: string
  results: BenchResult[]
  seconds: number
  error?: string
}

const args = process.argv.slice(2)
const full = args.includes('--full')
const quick = !full
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const selected = BENCHES.filter((bench) => only === undefined || only.includes(bench.name))
if (selected.length === 0) {
  console.error(`No benchmark matches; names: ${BENCHES.map((bench) => bench.name).join(', ')}`)
  process.exit(2)
}

const machine = describeMachine()
console.log(`Benchmarks, ${quick ? 'quick' : 'full'} mode`)
console.log(
  `${machine.cpu}, ${machine.cores} cores, ${machine.memory}; Node ${machine.node}, Deno ${machine.deno}\n`,
)

const started = performance.now()
const sections: Section[] = []
for (const bench of selected) {
  console.log(`== ${bench.title} (${bench.name})`)
  const benchStarted = performance.now()
  const section: Section = { name: bench.name, title: bench.title, results: [], seconds: 0 }
  try {
    const outcome = await bench.run({ quick })
    section.results = Array.isArray(outcome) ? outcome : [outcome]
  } catch (error) {
    section.error = error instanceof Error ? (error.stack ?? error.message) : String(error)
  }
  section.seconds = (performance.now() - benchStarted) / 1000
  print(section)
  sections.push(section)
}
const totalSeconds = (performance.now() - started) / 1000

const failures = sections.flatMap((section) =>
  section.error !== undefined
    ? [`${section.name}: could not run`]
    : section.results.filter((result) => !result.correct).map((result) => `${section.name}: ${result.name}`),
)
const missed = sections.flatMap((section) =>
  section.results.filter((result) => result.correct && !result.met),
)
console.log(
  `${sections.reduce((sum, section) => sum + section.results.length, 0)} figures in ${totalSeconds.toFixed(0)} s: ` +
    `${missed.length} target(s) missed, ${failures.length} correctness failure(s)`,
)
for (const failure of failures) console.log(`  FAILED: ${failure}`)
if (full) {
  console.log(
    'Not in this run: the 10-minute memory soak, `npm run bench:soak` (figures in docs/benchmarks.md)',
  )
}

if (full || args.includes('--write')) {
  const notes = await readFile(NOTES, 'utf8').catch(() => '')
  await writeFile(REPORT, report(sections, totalSeconds) + (notes === '' ? '' : `\n${notes}`))
  console.log(`Wrote ${REPORT}`)
}
process.exit(failures.length > 0 ? 1 : 0)

function verdict(result: BenchResult): string {
  if (!result.correct) return 'CORRECTNESS CHECK FAILED'
  if (result.target.startsWith('none')) return 'reported'
  return result.met ? 'target met' : 'target missed'
}

function figure(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : String(value)
}

function print(section: Section): void {
  for (const result of section.results) {
    console.log(`${result.name}: ${figure(result.ratio)} (target ${result.target}) ${verdict(result)}`)
    for (const line of result.lines) console.log(`    ${line}`)
  }
  if (section.error !== undefined) console.log(`  COULD NOT RUN: ${section.error}`)
  console.log(`  (${section.seconds.toFixed(1)} s)\n`)
}

function describeMachine() {
  let deno = 'not found'
  try {
    const denoPath = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url))
    deno = execFileSync(denoPath, ['--version'], { encoding: 'utf8' })
      .split('\n')[0]!
      .replace(/^deno /, '')
  } catch {
    // Reported as not found.
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory`,
    node: process.version,
    deno,
  }
}

function report(sections: Section[], seconds: number): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|')
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`npm run ${quick ? 'bench -- --write' : 'bench:full'}\` (${quick ? 'quick' : 'full'} mode) ` +
      `on ${new Date().toISOString().slice(0, 10)}, in ${seconds.toFixed(0)} s.`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory} (${process.platform} ${process.arch})`,
    `- Runtime: Node ${machine.node}, Deno ${machine.deno}`,
    '',
    'Every figure is a ratio against a baseline measured side by side in the same run, repeated',
    '(min / median / max over the rounds below; the figure is the median). How each is measured is',
    'described at the top of its file in `bench/`. A missed target does not fail the run; a failed',
    'correctness check does.',
    '',
    '| benchmark | figure | target | verdict |',
    '|---|---:|---|---|',
  ]
  for (const section of sections) {
    if (section.error !== undefined) lines.push(`| ${cell(section.title)} | — | — | could not run |`)
    for (const result of section.results) {
      lines.push(
        `| ${cell(result.name)} | ${figure(result.ratio)} | ${cell(result.target)} | ${verdict(result)} |`,
      )
    }
  }
  lines.push('')
  for (const section of sections) {
    lines.push(
      `## ${section.title}`,
      '',
      `\`bench/\` name: \`${section.name}\`, ${section.seconds.toFixed(0)} s.`,
      '',
    )
    for (const result of section.results) {
      lines.push(
        `**${result.name}**: ${figure(result.ratio)} (target ${result.target}, ${verdict(result)})`,
        '',
      )
      lines.push('```', ...result.lines, '```', '')
    }
    if (section.error !== undefined) lines.push('Could not run:', '', '```', section.error, '```', '')
  }
  return `${lines.join('\n')}\n`
}
