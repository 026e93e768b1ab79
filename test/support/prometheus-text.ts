/**
 * A strict reader of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), for tests:
 * it throws on any line a Prometheus server would refuse, a sample without
 * a `# TYPE`, a family typed twice, or a name or label outside the grammar.
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  help?: string
}

export interface Exposition {
  families: Map<string, Family>
  samples: Sample[]
  /** The value of the one sample of `name` with exactly these labels (undefined when absent). */
  value(name: string, labels?: Record<string, string>): number | undefined
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/** Go's ParseFloat as Prometheus uses it: decimals, exponents, ±Inf and NaN in any case. */
function parseValue(text: string, line: string): number {
  if (/^[+-]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity
  if (/^nan$/i.test(text)) return Number.NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`Bad value in ${line}`)
  return Number(text)
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = text
  while (rest.length > 0) {
    const match = /^([^=]+)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest)
    if (!match) throw new Error(`Bad labels in ${line}`)
    const [whole, label, raw] = match as unknown as [string, string, string]
    if (!LABEL.test(label) || label in labels) throw new Error(`Bad label ${label} in ${line}`)
    labels[label] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c))
    rest = rest.slice(whole.length)
  }
  return labels
}

/** The family a sample belongs to: histograms and summaries add suffixes to their name. */
function familyOf(name: string, families: Map<string, Family>): string | undefined {
  if (families.has(name)) return name
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined
    const type = base === undefined ? undefined : families.get(base)?.type
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base
  }
  return undefined
}

export function parseExposition(text: string): Exposition {
  const families = new Map<string, Family>()
  const samples: Sample[] = []
  const seen = new Set<string>()
  const typed = new Set<string>()
  if (!text.endsWith('\n')) throw new Error('The exposition does not end with a line feed')
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    if (line.startsWith('#')) {
      const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (!comment) continue
      const [, kind, name, rest] = comment as unknown as [string, string, string, string]
      if (!NAME.test(name)) throw new Error(`Bad metric name in ${line}`)
      const family = families.get(name) ?? { type: 'untyped' }
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`Bad TYPE in ${line}`)
        if (typed.has(name)) throw new Error(`Second TYPE for ${name}`)
        if (samples.some((sample) => sample.name === name)) throw new Error(`TYPE after samples: ${line}`)
        typed.add(name)
        family.type = rest as Family['type']
      } else family.help = rest
      families.set(name, family)
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line)
    if (!sample) throw new Error(`Bad sample line: ${line}`)
    const [, name, labelText, valueText] = sample as unknown as [string, string, string | undefined, string]
    if (familyOf(name, families) === undefined) throw new Error(`Sample of an untyped family: ${line}`)
    const labels = parseLabels(labelText ?? '', line)
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (seen.has(key)) throw new Error(`Duplicate sample: ${line}`)
    seen.add(key)
    samples.push({ name, labels, value: parseValue(valueText, line) })
  }
  return {
    families,
    samples,
    value(name, labels = {}) {
      const wanted = JSON.stringify(Object.entries(labels).sort())
      return samples.find(
        (sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === wanted,
      )?.value
    },
  }
}
