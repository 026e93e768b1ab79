/**
 * Reading the lowdb webhook store's log on open (`webhook-log.ts` writes
 * it): every log file of `DATA_DIR`, oldest first, each line a record
 * checked against its shape. Only the unterminated end of a file can be a
 * torn append (a crash in the middle of a write that was never
 * acknowledged): it is ignored. Any other line that does not parse stops
 * the start with a sentence naming the file and the line.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ServiceError } from '../../domain/errors.ts'
import { isNotFound } from './fs-durable.ts'
import { type LogRecord, logFileName, logGeneration, logRecordSchema } from './webhook-files.ts'

export interface LogOnDisk {
  /** Generations of the log files present, ascending. */
  generations: number[]
  /** Their records after `afterSeq`, in order. */
  records: LogRecord[]
  /** The highest `seq` seen (the snapshot's, or a record's). */
  seq: number
}

/** Reads the log files of `dataDir`: the records after the snapshot's `afterSeq`. */
export async function readLog(dataDir: string, afterSeq: number): Promise<LogOnDisk> {
  const generations = (await readdir(dataDir))
    .map(logGeneration)
    .filter((gen): gen is number => gen !== undefined)
    .sort((a, b) => a - b)
  const records: LogRecord[] = []
  let seq = afterSeq
  for (const gen of generations) {
    for (const record of await readRecords(join(dataDir, logFileName(gen)), logFileName(gen))) {
      seq = Math.max(seq, record.seq)
      if (record.seq > afterSeq) records.push(record)
    }
  }
  records.sort((a, b) => a.seq - b.seq)
  return { generations, records, seq }
}

async function readRecords(path: string, name: string): Promise<LogRecord[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if (isNotFound(cause)) return []
    throw new ServiceError('STORAGE', `The store file ${name} could not be read`, { cause })
  }
  const lines = text.split('\n')
  const records: LogRecord[] = []
  for (const [index, line] of lines.entries()) {
    const last = index === lines.length - 1
    if (line === '' && last) continue
    const record = parseRecord(line)
    if (record !== undefined) records.push(record)
    // Only the unterminated end of a file can be a torn append.
    else if (!last) {
      throw new ServiceError('STORAGE', `The store file ${name} is damaged at line ${index + 1}`)
    }
  }
  return records
}

function parseRecord(line: string): LogRecord | undefined {
  try {
    const parsed = logRecordSchema.safeParse(JSON.parse(line))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
